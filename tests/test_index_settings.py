"""Which index relax-pins asks: flags, the requirements file, pip's configuration, then pip's default."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resolver.index.settings import pip_config, pip_default_index, redact, resolve_settings


def env_with(tmp_path: Path, **values: str) -> dict[str, str]:
    """An environment whose pip configuration lives only in tmp_path (nothing from this machine leaks in)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "HOME": str(home),
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        **values,
    }


def test_nothing_configured_uses_pips_own_default(tmp_path: Path) -> None:
    settings = resolve_settings(env=env_with(tmp_path))
    assert settings.index_url == pip_default_index()
    assert settings.origin == "pip default"
    assert settings.extra_index_urls == ()


def test_without_pip_the_default_comes_from_the_pip_python_bundles(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a venv made by uv there is no pip to import: ``check`` failed with "pip is not installed to say what
    its default is", exit 3. The default is now read from the source text of the pip that ensurepip bundles
    with Python (never run), and it is the same URL the installed pip gives."""
    from pip._internal.models.index import PyPI

    monkeypatch.setitem(sys.modules, "pip._internal.models.index", None)  # import fails, as without pip
    assert pip_default_index() == PyPI.simple_url


def test_a_venv_made_by_uv_reads_the_same_default(tmp_path: Path) -> None:
    """The real case: a venv made by uv has no pip; the package is importable there (the checkout on
    sys.path), and says the same default as this interpreter's pip."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    assert uv, "uv is not installed: pip install uv (it is in the test extra)"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(tmp_path / "v")], check=True)
    python = tmp_path / "v" / "bin" / "python"
    assert subprocess.run([python, "-c", "import pip"], capture_output=True, check=False).returncode != 0
    # This venv's packages, pip left out: linked into one folder the new venv reads.
    packages = tmp_path / "packages"
    packages.mkdir()
    for site in (Path(p) for p in sys.path if p.endswith("site-packages")):
        for entry in site.iterdir():
            if not entry.name.lower().startswith("pip") and not (packages / entry.name).exists():
                (packages / entry.name).symlink_to(entry)
    root = Path(__file__).resolve().parents[1]
    code = "import importlib.util as u; assert u.find_spec('pip') is None; "
    code += "from resolver.index.settings import pip_default_index; print(pip_default_index())"
    env = {"PYTHONPATH": os.pathsep.join([str(root), str(packages)]), "PATH": os.environ["PATH"]}
    done = subprocess.run([python, "-S", "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == pip_default_index()


def test_env_overrides_files_and_install_section_overrides_global(tmp_path: Path) -> None:
    user = tmp_path / "home" / ".config" / "pip"
    user.mkdir(parents=True)
    (user / "pip.conf").write_text(
        "[global]\nindex-url = http://127.0.0.1:1/global/\nextra-index-url =\n    http://127.0.0.1:2/a/\n"
        "    http://127.0.0.1:3/b/\n[install]\nindex-url = http://127.0.0.1:1/install/\n"
    )
    env = env_with(tmp_path)
    assert pip_config(env)["index-url"] == "http://127.0.0.1:1/install/"
    settings = resolve_settings(env=env)
    assert settings.index_url == "http://127.0.0.1:1/install/"
    assert settings.extra_index_urls == ("http://127.0.0.1:2/a/", "http://127.0.0.1:3/b/")
    env["PIP_INDEX_URL"] = "http://127.0.0.1:9/env/"
    assert resolve_settings(env=env).index_url == "http://127.0.0.1:9/env/"


def test_pip_config_file_and_devnull(tmp_path: Path) -> None:
    conf = tmp_path / "custom.conf"
    conf.write_text("[global]\nindex-url = http://127.0.0.1:5/custom/\nfind-links = /srv/wheels\n")
    settings = resolve_settings(env=env_with(tmp_path, PIP_CONFIG_FILE=str(conf)))
    assert settings.index_url == "http://127.0.0.1:5/custom/"
    assert settings.find_links == ("/srv/wheels",)
    # os.devnull switches every file off, as it does for pip.
    assert pip_config(env_with(tmp_path, PIP_CONFIG_FILE=os.devnull)) == {}


def test_precedence_flags_then_file_then_config(tmp_path: Path) -> None:
    env = env_with(
        tmp_path,
        PIP_INDEX_URL="http://127.0.0.1:1/config/",
        PIP_EXTRA_INDEX_URL="http://127.0.0.1:2/x/ http://127.0.0.1:3/y/",
    )
    from_file = resolve_settings(file_index_url="http://127.0.0.1:4/file/", env=env)
    assert (from_file.index_url, from_file.origin) == ("http://127.0.0.1:4/file/", "requirements file")
    from_flag = resolve_settings(
        cli_index_url="http://127.0.0.1:5/flag/",
        file_index_url="http://127.0.0.1:4/file/",
        cli_extra_index_urls=["http://127.0.0.1:3/y/"],
        env=env,
    )
    assert from_flag.index_url == "http://127.0.0.1:5/flag/"
    assert from_flag.urls == ("http://127.0.0.1:5/flag/", "http://127.0.0.1:3/y/", "http://127.0.0.1:2/x/")


def test_no_index_leaves_only_find_links(tmp_path: Path) -> None:
    settings = resolve_settings(env=env_with(tmp_path, PIP_NO_INDEX="1", PIP_FIND_LINKS="/a /b"))
    assert settings.index_url is None
    assert settings.find_links == ("/a", "/b")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:s3cret@127.0.0.1:8080/simple/", "https://user:***@127.0.0.1:8080/simple/"),
        ("https://tok3n@127.0.0.1/simple/", "https://***@127.0.0.1/simple/"),
        ("http://127.0.0.1/simple/", "http://127.0.0.1/simple/"),
        ("file:///srv/index", "file:///srv/index"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert "s3cret" not in redact(url) and "tok3n" not in redact(url)
