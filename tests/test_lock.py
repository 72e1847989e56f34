"""`relax-pins lock` as a library: pylock.toml and hashed requirements, against a real index on loopback.

The universe below is a miniature ML service (the torch family with a CUDA runtime wheel, Hugging Face, the
web stack) whose numpy has wheels for several platforms and an sdist, so the lock's file choice shows.
``test_layers.py`` and ``test_lock_install.py`` reuse it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from packaging.pylock import PackageSdist, PackageWheel, Pylock
from packaging.version import Version

from resolver.cli.exits import exit_code
from resolver.core.target import make_target
from resolver.cuda.builds import variant_of_url
from resolver.lock.model import (
    HashUnavailableError,
    Lock,
    LockedFile,
    LockedPackage,
    check_lock,
    environment_marker,
    recorded_inputs,
    strip_credentials,
)
from resolver.pipeline.lock import LockSettings, lock_files, lock_inputs
from resolver.pipeline.relax import RelaxSettings, plan_relax
from resolver.pipeline.session import IndexOptions
from resolver.results import LockOutcome, RelaxResult
from resolver.writers.hashed import render_hashed
from resolver.writers.pylock import pylock_document, render_pylock
from tests.indexserver.model import IndexFile, Project, dist
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.scenario import Rel, publish

PY = "3.11"
PLATFORM = "manylinux_2_28_x86_64"
LINUX = "platform_system == 'Linux'"

#: The loopback universe: (requires, tags) per release; numpy gets several wheels and an sdist separately.
STACK: dict[str, list[Rel]] = {
    "torch": [
        Rel("2.7.0", ["filelock", "numpy"]),
        Rel(
            "2.7.1",
            ["filelock", "numpy", f"triton==3.3.1; {LINUX}", f"nvidia-cuda-runtime-cu12==12.8.57; {LINUX}"],
        ),
    ],
    "torchvision": [Rel("0.22.1", ["torch==2.7.1", "numpy"])],
    "triton": [Rel("3.3.1")],
    "nvidia-cuda-runtime-cu12": [Rel("12.8.57", tags="py3-none-manylinux_2_17_x86_64")],
    "filelock": [Rel("3.16.1")],
    "transformers": [
        Rel("4.52.4", ["numpy>=1.17", "tokenizers>=0.21,<0.22", "huggingface-hub>=0.30", "safetensors>=0.4.3"])
    ],
    "tokenizers": [Rel("0.21.1", ["huggingface-hub>=0.16.4,<1.0"])],
    "huggingface-hub": [Rel("0.33.0", ["filelock"])],
    "safetensors": [Rel("0.5.3")],
    "fastapi": [Rel("0.115.12", ["starlette>=0.40.0,<0.47.0", "pydantic>=1.7.4"])],
    "starlette": [Rel("0.46.2", ["anyio>=3.6.2,<5"])],
    "anyio": [Rel("4.9.0")],
    "pydantic": [Rel("2.11.5", ["pydantic-core==2.33.2"])],
    "pydantic-core": [Rel("2.33.2")],
    "certifi": [Rel("2024.2.2"), Rel("2024.8.30")],
    "pip": [Rel("25.1.1")],
    "setuptools": [Rel("80.9.0")],
    "wheel": [Rel("0.45.1")],
}
NUMPY_WHEELS = (
    "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp311-cp311-manylinux_2_28_x86_64",
    "cp311-cp311-musllinux_1_2_x86_64",
    "cp311-cp311-win_amd64",
    "cp312-cp312-manylinux_2_28_x86_64",
)
REQUIREMENTS = (
    "# the service\n"
    "torch==2.7.1\n"
    "torchvision==0.22.1\n"
    "transformers==4.52.4\n"
    'numpy>=1.26 ; python_version < "3.13"\n'
    "fastapi==0.115.12\n"
    "certifi==2024.2.2\n"
)


#: What the stack below resolves to on the test index (also what the install tests must find installed).
EXPECTED = {
    "anyio": "4.9.0",
    "certifi": "2024.2.2",
    "fastapi": "0.115.12",
    "filelock": "3.16.1",
    "huggingface-hub": "0.33.0",
    "numpy": "2.2.6",
    "nvidia-cuda-runtime-cu12": "12.8.57",
    "pydantic": "2.11.5",
    "pydantic-core": "2.33.2",
    "safetensors": "0.5.3",
    "starlette": "0.46.2",
    "tokenizers": "0.21.1",
    "torch": "2.7.1",
    "torchvision": "0.22.1",
    "transformers": "4.52.4",
    "triton": "3.3.1",
}


def publish_stack(server: IndexServer, wheels: WheelCache, extra: Mapping[str, Sequence[Rel]] | None = None) -> None:
    """The universe on ``server``: :data:`STACK`, numpy with its platform wheels and sdist, and ``extra``."""
    publish(server, wheels, {**STACK, **(extra or {})})
    files = [
        dist(wheels.wheel("numpy", "2.2.6", tags=tags), upload_time="2025-05-17T21:27:58.555Z") for tags in NUMPY_WHEELS
    ]
    files.append(dist(wheels.sdist("numpy", "2.2.6"), upload_time="2025-05-17T21:45:33.123456Z"))
    files.append(dist(wheels.wheel("numpy", "1.26.4", tags=NUMPY_WHEELS[0])))
    server.add(Project("numpy", files))


def isolate_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch off pip's configuration on this machine (index URLs, find-links, constraints)."""
    for key in list(os.environ):
        if key.startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)


@pytest.fixture
def stack(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> IndexServer:
    """The universe on loopback, pip's configuration switched off, the working folder a fresh one."""
    publish_stack(index_server, wheel_cache)
    isolate_pip(monkeypatch)
    monkeypatch.chdir(tmp_path)
    return index_server


def options_for(server: IndexServer, tmp_path: Path, *, no_cache: bool = False, refresh: bool = False) -> IndexOptions:
    """Index options for the loopback index and the test target."""
    return IndexOptions(
        index_url=server.url,
        cache_dir=tmp_path / "cache",
        no_cache=no_cache,
        refresh=refresh,
        python=PY,
        platform=PLATFORM,
        retries=0,
    )


def read(text: str = REQUIREMENTS, name: str = "requirements.txt") -> RelaxResult:
    """Write ``text`` to ``name`` in the working folder and read it as the commands do."""
    Path(name).write_text(text)
    return plan_relax(RelaxSettings(paths=(Path(name),)))


def load_toml(text: str) -> dict[str, Any]:
    """TOML text as plain values (tomllib is not in Python 3.10, the oldest supported)."""
    return tomlkit.parse(text).unwrap()


def locked(outcome: LockOutcome) -> Lock:
    assert outcome.lock is not None, (outcome.findings, outcome.unreachable, outcome.integrity)
    return outcome.lock


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the lock value -------------------------------------------------------------------------------------------


def test_lock_pins_every_package_with_the_files_the_target_can_install(stack: IndexServer, tmp_path: Path) -> None:
    lock = locked(lock_files(read(), options_for(stack, tmp_path)))
    versions = {p.name: str(p.version) for p in lock.packages}
    assert versions == EXPECTED
    numpy = lock.get("numpy")
    assert numpy is not None
    # Both manylinux wheels fit a manylinux_2_28 target; musllinux, Windows and cp312 do not. The sdist is kept.
    assert [w.filename for w in numpy.wheels] == [
        "numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "numpy-2.2.6-cp311-cp311-manylinux_2_28_x86_64.whl",
    ]
    assert numpy.sdist is not None
    assert numpy.sdist.filename == "numpy-2.2.6.tar.gz"
    assert numpy.chosen == "numpy-2.2.6-cp311-cp311-manylinux_2_28_x86_64.whl"  # the best tag for the target
    assert numpy.size is not None
    assert numpy.size > 0
    assert numpy.index == stack.url
    assert numpy.required_by == ("torch", "torchvision", "transformers")
    assert numpy.requested_in == ("requirements.txt",)
    assert numpy.marker is None  # torch needs numpy whatever the user's marker says
    torch = lock.get("torch")
    assert torch is not None
    assert torch.dependencies == ("filelock", "numpy", "nvidia-cuda-runtime-cu12", "triton")
    for package in lock.packages:
        for file in package.files:
            served = stack.file_url(file.filename)
            assert file.url == served
            assert file.size is not None


def test_hashes_are_the_sha256_the_index_publishes(stack: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    lock = locked(lock_files(read("certifi==2024.2.2\n"), options_for(stack, tmp_path)))
    (certifi,) = lock.packages
    (wheel,) = certifi.wheels
    assert wheel.sha256 == sha256(wheel_cache.wheel("certifi", "2024.2.2").read_bytes())
    assert wheel.upload_time == "2024-01-01T00:00:00.000000Z"


def test_markers_false_on_the_target_leave_the_requirement_out(stack: IndexServer, tmp_path: Path) -> None:
    text = "certifi==2024.2.2 ; sys_platform == 'win32'\nfilelock==3.16.1 ; python_version >= '3.10'\n"
    lock = locked(lock_files(read(text), options_for(stack, tmp_path)))
    assert [p.name for p in lock.packages] == ["filelock"]
    assert lock.packages[0].marker == 'python_version >= "3.10"'


def test_a_conflict_is_a_finding_and_no_lock(stack: IndexServer, tmp_path: Path) -> None:
    outcome = lock_files(read("torch==2.7.0\ntorchvision==0.22.1\n"), options_for(stack, tmp_path))
    assert outcome.lock is None
    assert exit_code(outcome.findings, outcome) == 1
    (finding,) = outcome.findings
    assert finding.code == "unresolvable"
    assert "torchvision 0.22.1 requires torch==2.7.1" in finding.message


def test_a_direct_reference_cannot_be_locked(stack: IndexServer, tmp_path: Path) -> None:
    outcome = lock_files(read("mylib @ https://example.invalid/mylib-1.0.tar.gz\n"), options_for(stack, tmp_path))
    assert outcome.lock is None
    assert [f.code for f in outcome.findings] == ["unlockable"]
    assert exit_code(outcome.findings, outcome) == 1


def test_relaxed_locks_the_ranges_relax_would_write(stack: IndexServer, tmp_path: Path) -> None:
    result = read("certifi==2024.2.2\n")
    assert locked(lock_files(result, options_for(stack, tmp_path))).packages[0].version == Version("2024.2.2")
    relaxed = locked(lock_files(result, options_for(stack, tmp_path), LockSettings(relaxed=True)))
    assert relaxed.packages[0].version == Version("2024.8.30")  # calver: relaxed to >=2024.2.2


# -- hashes that do not hold -----------------------------------------------------------------------------------


def test_a_tampered_file_is_refused_when_it_is_downloaded(
    stack: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    """No .metadata file and no range support: the client reads the whole wheel, and its hash does not hold."""
    path = wheel_cache.wheel("badpkg", "1.0")
    stack.add(Project("badpkg", [dist(path, wrong_hash=True, serve_metadata=False, advertise_metadata=False)]))
    stack.no_range()
    outcome = lock_files(read("badpkg==1.0\n"), options_for(stack, tmp_path))
    assert outcome.lock is None
    assert exit_code(outcome.findings, outcome) == 4
    assert outcome.integrity is not None
    assert "badpkg-1.0-py3-none-any.whl" in outcome.integrity
    assert "does not match its hash" in outcome.integrity


def test_an_md5_only_index_is_refused_naming_the_file(
    tmp_path: Path, wheel_cache: WheelCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_pip(monkeypatch)
    monkeypatch.chdir(tmp_path)
    wheel = wheel_cache.wheel("certifi", "2024.2.2")
    data = wheel.read_bytes()
    root = tmp_path / "md5index"
    (root / "files").mkdir(parents=True)
    (root / "files" / wheel.name).write_bytes(data)
    page = root / "simple" / "certifi"
    page.mkdir(parents=True)
    md5 = hashlib.md5(data).hexdigest()  # an md5-only index is what this test is about
    page.joinpath("index.html").write_text(f'<a href="../../files/{wheel.name}#md5={md5}">{wheel.name}</a>\n')
    options = IndexOptions(index_url=(root / "simple").as_uri(), no_cache=True, python=PY, platform=PLATFORM)
    outcome = lock_files(read("certifi==2024.2.2\n"), options)
    assert outcome.lock is None
    assert exit_code(outcome.findings, outcome) == 4
    assert outcome.integrity is not None
    assert f"{wheel.name}: the index offers only md5" in outcome.integrity
    assert "sha256" in outcome.integrity


def test_a_file_without_any_hash_is_refused(stack: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    stack.add(Project("nohash", [dist(wheel_cache.wheel("nohash", "1.0"), advertise_hash=False)]))
    outcome = lock_files(read("nohash==1.0\n"), options_for(stack, tmp_path))
    assert exit_code(outcome.findings, outcome) == 4
    assert outcome.integrity is not None
    assert "offers no hash" in outcome.integrity


def test_hash_unavailable_error_carries_no_credentials() -> None:
    error = HashUnavailableError(filename="a-1.0.tar.gz", url="https://u:hunter2@host/f/a-1.0.tar.gz", offered=("md5",))
    assert "hunter2" not in str(error)
    assert error.exit_code == 4
    assert "a-1.0.tar.gz" in str(error)


def test_unreachable_index_is_a_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_pip(monkeypatch)
    monkeypatch.chdir(tmp_path)
    options = IndexOptions(
        index_url="http://user:hunter2@127.0.0.1:9/simple/", no_cache=True, python=PY, platform=PLATFORM, retries=0
    )
    outcome = lock_files(read("certifi==2024.2.2\n"), options)
    assert exit_code(outcome.findings, outcome) == 3
    assert outcome.unreachable is not None
    assert "hunter2" not in outcome.unreachable
    assert all("hunter2" not in i for i in outcome.indexes)


# -- the PyTorch wheel index -----------------------------------------------------------------------------------


@pytest.fixture
def torch_index(wheel_cache: WheelCache) -> Iterator[IndexServer]:
    """A second loopback index standing in for ``<base>/whl/cu128``: torch builds with a local label."""
    server = IndexServer().start()
    try:
        publish(
            server,
            wheel_cache,
            {
                "torch": [Rel("2.7.1+cu128", ["filelock", "numpy", f"triton==3.3.1; {LINUX}"])],
                "torchvision": [Rel("0.22.1+cu128", ["torch==2.7.1", "numpy"])],
                "triton": [Rel("3.3.1")],
                "numpy": [Rel("1.0.0")],  # not routed: the main index serves numpy
            },
        )
        yield server
    finally:
        server.stop()


def test_torch_family_comes_from_the_torch_index(stack: IndexServer, torch_index: IndexServer, tmp_path: Path) -> None:
    settings = LockSettings(torch_index_url=torch_index.url, variant="cu128")
    outcome = lock_files(read(), options_for(stack, tmp_path), settings)
    lock = locked(outcome)
    by_name: dict[str, LockedPackage] = {p.name: p for p in lock.packages}
    assert str(by_name["torch"].version) == "2.7.1+cu128"
    assert str(by_name["torchvision"].version) == "0.22.1+cu128"
    for name in ("torch", "torchvision", "triton"):
        assert by_name[name].index == torch_index.url
        assert all(f.url.startswith(torch_index.base_url) for f in by_name[name].files)
    assert by_name["numpy"].index == stack.url
    assert str(by_name["numpy"].version) == "2.2.6"
    assert "nvidia-cuda-runtime-cu12" not in by_name  # the cu128 build does not ask for the runtime wheel
    assert lock.extra_index_urls == (torch_index.url,)
    assert lock.variant == "cu128"
    assert torch_index.url in outcome.indexes
    text = render_hashed(lock)
    assert f"--extra-index-url {torch_index.url}" in text
    assert "torch==2.7.1+cu128 \\" in text


def test_a_name_the_torch_index_lacks_falls_back_to_the_main_index(
    stack: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    server = IndexServer().start()
    try:
        publish(server, wheel_cache, {"torch": [Rel("2.7.1+cu128", ["filelock", "numpy"])]})
        lock = locked(
            lock_files(
                read("torch==2.7.1\ntriton==3.3.1\n"),
                options_for(stack, tmp_path),
                LockSettings(torch_index_url=server.url),
            )
        )
    finally:
        server.stop()
    triton = lock.get("triton")
    assert triton is not None
    assert triton.index == stack.url


def test_variant_of_url() -> None:
    assert variant_of_url("https://mirror.example/whl/cu128") == "cu128"
    assert variant_of_url("https://mirror.example/whl/cu128/") == "cu128"
    assert variant_of_url("https://mirror.example/whl/rocm6.3/") == "rocm6.3"
    assert variant_of_url("https://mirror.example/whl/cpu") == "cpu"
    assert variant_of_url("https://mirror.example/simple/") is None
    assert variant_of_url(None) is None


# -- pylock.toml ------------------------------------------------------------------------------------------------


def test_pylock_validates_with_packaging(stack: IndexServer, tmp_path: Path) -> None:
    lock = locked(lock_files(read(), options_for(stack, tmp_path)))
    text = render_pylock(lock)
    doc = load_toml(text)
    pylock = Pylock.from_dict(doc)
    pylock.validate()
    assert doc["lock-version"] == "1.0"
    assert doc["created-by"] == "relax-pins"
    assert doc["requires-python"] == "==3.11.*"
    assert doc["environments"] == [  # as packaging.pylock writes a marker
        'python_version == "3.11" and sys_platform == "linux" and platform_machine == "x86_64" '
        'and implementation_name == "cpython"'
    ]
    numpy = next(p for p in doc["packages"] if p["name"] == "numpy")
    assert numpy["index"] == stack.url
    assert len(numpy["wheels"]) == 2
    assert numpy["wheels"][0]["upload-time"].isoformat() == "2025-05-17T21:27:58.555000+00:00"
    assert set(numpy["wheels"][0]) == {"name", "url", "size", "upload-time", "hashes"}
    assert numpy["sdist"]["name"] == "numpy-2.2.6.tar.gz"
    assert numpy["sdist"]["upload-time"].isoformat() == "2025-05-17T21:45:33.123456+00:00"
    torch = next(p for p in doc["packages"] if p["name"] == "torch")
    assert torch["dependencies"] == [{"name": n} for n in ("filelock", "numpy", "nvidia-cuda-runtime-cu12", "triton")]
    assert doc["tool"]["relax-pins"]["inputs"] == lock.inputs
    # packaging selects exactly the resolution for the target environment
    target = make_target(PY, PLATFORM)
    environment: Any = dict(target.markers)
    chosen: dict[str, str] = {
        p.name: f.filename
        for p, f in pylock.select(environment=environment, tags=target.tags)
        if isinstance(f, (PackageWheel, PackageSdist))
    }
    assert chosen["numpy"] == "numpy-2.2.6-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert set(chosen) == {p.name for p in lock.packages}


def test_the_users_marker_is_kept_when_it_is_the_only_reason(stack: IndexServer, tmp_path: Path) -> None:
    lock = locked(lock_files(read('certifi==2024.2.2 ; python_version < "3.13"\n'), options_for(stack, tmp_path)))
    doc = pylock_document(lock)
    packages = doc["packages"]
    assert isinstance(packages, list)
    assert packages[0]["marker"] == 'python_version < "3.13"'
    Pylock.from_dict(load_toml(render_pylock(lock))).validate()


def test_locking_twice_writes_the_same_bytes(stack: IndexServer, tmp_path: Path) -> None:
    result = read()
    first = locked(lock_files(result, options_for(stack, tmp_path)))
    second = locked(lock_files(result, options_for(stack, tmp_path, no_cache=True)))
    assert render_pylock(first) == render_pylock(second)
    assert render_hashed(first) == render_hashed(second)
    assert first.inputs == second.inputs


def test_written_urls_carry_no_credentials(stack: IndexServer, tmp_path: Path) -> None:
    stack.require_auth("alice", "s3cret-token")
    options = IndexOptions(
        index_url=stack.url_with_credentials("alice", "s3cret-token"),
        cache_dir=tmp_path / "cache",
        python=PY,
        platform=PLATFORM,
    )
    lock = locked(lock_files(read("certifi==2024.2.2\n"), options))
    for text in (render_pylock(lock), render_hashed(lock)):
        assert "s3cret-token" not in text
        assert "alice" not in text
        assert stack.url in text


def test_strip_credentials() -> None:
    assert strip_credentials("https://user:pw@host:8443/simple/") == "https://host:8443/simple/"
    assert strip_credentials("https://token@host/simple/") == "https://host/simple/"
    assert strip_credentials("https://host/simple/") == "https://host/simple/"


# -- requirements with hashes -------------------------------------------------------------------------------------


def test_hashed_requirements_list_every_installable_file(stack: IndexServer, tmp_path: Path) -> None:
    lock = locked(lock_files(read(), options_for(stack, tmp_path)))
    text = render_hashed(lock, output="requirements.lock.txt")
    lines = text.splitlines()
    assert lines[0].startswith("# Generated by relax-pins from requirements.txt")
    assert f"# inputs: {lock.inputs}" in lines
    assert f"--index-url {stack.url}" in lines
    numpy = lock.get("numpy")
    assert numpy is not None
    start = lines.index("numpy==2.2.6 \\")
    block = lines[start : start + 9]
    hashes = sorted(f.sha256 for f in numpy.files)
    assert block[1:4] == [
        f"    --hash=sha256:{hashes[0]} \\",
        f"    --hash=sha256:{hashes[1]} \\",
        f"    --hash=sha256:{hashes[2]}",
    ]
    assert block[4:9] == [
        "    # via",
        "    #   -r requirements.txt",
        "    #   torch",
        "    #   torchvision",
        "    #   transformers",
    ]
    assert "    # via pydantic" in lines  # pydantic-core: one reason on one line
    assert all(not line.startswith("--hash") for line in lines)


def test_pip_default_index_is_not_written(stack: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index from pip's configuration is written; pip's own default would not be (pip-compile does the same)."""
    monkeypatch.setenv("PIP_INDEX_URL", stack.url)
    options = IndexOptions(cache_dir=tmp_path / "cache", python=PY, platform=PLATFORM)
    lock = locked(lock_files(read("certifi==2024.2.2\n"), options))
    assert lock.index_url == stack.url  # from pip's configuration, so written
    package = LockedPackage(
        name=lock.packages[0].name,
        version=lock.packages[0].version,
        index=None,
        wheels=(LockedFile(filename="certifi-2024.2.2-py3-none-any.whl", url="u", sha256="0" * 64),),
        sdist=None,
        chosen="certifi-2024.2.2-py3-none-any.whl",
    )
    bare = Lock(packages=(package,), target=lock.target, inputs=lock.inputs)
    assert "--index-url" not in render_hashed(bare)


# -- --check --------------------------------------------------------------------------------------------------------


def test_check_tells_a_changed_source_offline(stack: IndexServer, tmp_path: Path) -> None:
    options = options_for(stack, tmp_path)
    result = read("certifi==2024.2.2\n")
    lock = locked(lock_files(result, options))
    text = render_pylock(lock)
    assert recorded_inputs(text) == lock.inputs
    assert recorded_inputs(render_hashed(lock)) == lock.inputs
    assert check_lock(text, inputs=lock_inputs(result, options, LockSettings())).current
    assert check_lock(text, inputs=lock.inputs, rendered=render_pylock(lock)).current
    changed = read("certifi==2024.8.30\n")
    stale = check_lock(text, inputs=lock_inputs(changed, options, LockSettings()))
    assert not stale.current
    assert stale.reason is not None
    assert "sources" in stale.reason
    other_target = IndexOptions(index_url=stack.url, python="3.12", platform=PLATFORM)
    assert not check_lock(text, inputs=lock_inputs(result, other_target, LockSettings())).current
    torch = LockSettings(torch_index_url="http://127.0.0.1:1/whl/cu128")
    assert not check_lock(text, inputs=lock_inputs(result, options, torch)).current


def test_check_tells_a_changed_index_by_rendering(stack: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    options = options_for(stack, tmp_path, refresh=True)
    result = read("filelock>=3.16\n")
    text = render_pylock(locked(lock_files(result, options)))
    stack.add(Project("filelock", [dist(wheel_cache.wheel("filelock", v)) for v in ("3.16.1", "3.18.0")]))
    fresh = locked(lock_files(result, options))
    check = check_lock(text, inputs=fresh.inputs, rendered=render_pylock(fresh))
    assert not check.current
    assert check.reason is not None
    assert "index changed" in check.reason


def test_check_of_a_missing_or_foreign_file() -> None:
    assert not check_lock(None, inputs="sha256:" + "0" * 64).current
    assert not check_lock("lock-version = '1.0'\n", inputs="sha256:" + "0" * 64).current


def test_environment_marker_for_this_machine() -> None:
    marker = environment_marker(make_target(PY, "win_amd64"))
    assert marker == (
        "python_version == '3.11' and sys_platform == 'win32' and platform_machine == 'AMD64' "
        "and implementation_name == 'cpython'"
    )


def test_hashes_of_md5_only_files_do_not_leak_into_outputs(stack: IndexServer, tmp_path: Path) -> None:
    """Files offering sha256 and md5: only the sha256 is written."""
    lock = locked(lock_files(read("certifi==2024.2.2\n"), options_for(stack, tmp_path)))
    assert "md5" not in render_pylock(lock)
    assert "md5" not in render_hashed(lock)


def test_upload_time_parsing_is_lenient() -> None:
    from resolver.writers.pylock import _upload_time

    assert _upload_time("2024-01-01T00:00:00Z") is not None
    assert _upload_time("2024-01-01T02:00:00+02:00") == _upload_time("2024-01-01T00:00:00Z")
    assert _upload_time("2024-01-01T00:00:00.1234567Z") is not None
    assert _upload_time("yesterday") is None
    assert _upload_time(None) is None


def test_an_index_file_with_a_yanked_file_is_not_locked(
    stack: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    good = dist(wheel_cache.wheel("yk", "1.0", tags="py3-none-any"))
    yanked = IndexFile(
        filename="yk-1.0-py3-none-manylinux_2_17_x86_64.whl",
        content=wheel_cache.wheel("yk", "1.0", tags="py3-none-manylinux_2_17_x86_64").read_bytes(),
        yanked="broken",
    )
    stack.add(Project("yk", [good, yanked]))
    lock = locked(lock_files(read("yk>=1.0\n"), options_for(stack, tmp_path)))
    (package,) = lock.packages
    assert [w.filename for w in package.wheels] == ["yk-1.0-py3-none-any.whl"]


def test_the_hashed_file_reads_back_as_a_lock_file(stack: IndexServer, tmp_path: Path) -> None:
    """relax-pins's own parser sees --hash lines, so the relax command leaves a lock alone."""
    from resolver.core.reqfile import parse

    lock = locked(lock_files(read(), options_for(stack, tmp_path)))
    text = render_hashed(lock)
    model = parse(text, path="requirements.lock.txt")
    assert model.lock_reason == "--hash options"
    assert len([e for e in model.requirements() if e.requirement is not None]) == len(lock.packages)
