"""The CUDA <-> PyTorch matrix: its facts, its schema errors, and its answers.

The fact checks use independent knowledge (release notes, the index itself), so a wrong edit of the data fails
here; the schema checks break a copy of the shipped document one way at a time and expect the entry named.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolver.cuda.matrix import (
    MATRIX_FILE,
    CudaVersion,
    DriverSupport,
    Matrix,
    MatrixError,
    VariantError,
    builtin_path,
    load_matrix,
    parse_variant,
)
from resolver.errors import RelaxPinsError
from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / MATRIX_FILE


@pytest.fixture(scope="module")
def m() -> Matrix:
    return load_matrix()


def line(m: Matrix, torch: str) -> Any:
    found = m.line_for(torch)
    assert found is not None, torch
    return found


# ----------------------------------------------------------------------------------------------------- facts


def test_lines_run_from_1_4_to_2_15_without_gaps(m: Matrix) -> None:
    names = [x.torch for x in m.torch_lines]
    assert names == [*(f"1.{minor}" for minor in range(4, 14)), *(f"2.{minor}" for minor in range(16))]
    assert m.newest.torch == "2.15"


def test_torch_2_7_facts(m: Matrix) -> None:
    l27 = line(m, "2.7")
    assert (l27.torchvision, l27.torchaudio, l27.triton) == ("0.22", "2.7", "3.3")
    assert l27.default_cuda == "12.6"
    assert {"cu118", "cu126", "cu128"} <= set(l27.cuda_variants)
    assert (l27.python_min, l27.python_max, l27.python_free_threaded) == ("3.9", "3.13", ("3.13",))
    assert l27.wheel_platform == "manylinux_2_28"
    assert l27.glibc_min == "2.28"


def test_torch_2_0_has_no_cuda_12_build_and_2_1_brings_cu121(m: Matrix) -> None:
    assert line(m, "2.0").cuda_variants == ("cu117", "cu118")
    assert all(CudaVersion.parse(v).major == 11 for v in line(m, "2.0").cuda_variants)
    assert line(m, "2.1").cuda_variants == ("cu118", "cu121")
    assert line(m, "2.0").default_cuda == "11.7"
    assert line(m, "2.1").default_cuda == "12.1"


@pytest.mark.parametrize(
    ("torch", "default", "aarch64"),
    [
        ("1.12", "10.2", None),
        ("1.13", "11.7", None),
        ("2.4", "12.1", None),
        ("2.5", "12.4", None),
        ("2.8", "12.8", None),
        ("2.10", "12.8", None),
        ("2.11", "13.0", "13.0"),
        ("2.14", "13.0", "13.0"),
        ("2.15", "13.2", "13.2"),
    ],
)
def test_default_cuda_on_the_main_index(m: Matrix, torch: str, default: str, aarch64: str | None) -> None:
    assert line(m, torch).default_cuda == default
    assert line(m, torch).default_cuda_aarch64 == aarch64


def test_companion_traps(m: Matrix) -> None:
    # torchvision 0.15.0 and torchaudio 2.0.0 are yanked: 2.0.0 pairs with 0.15.1 and 2.0.1
    pair = m.companions("2.0.0")
    assert pair is not None
    assert (pair.torchvision, pair.torchaudio, pair.exact) == ("==0.15.1", "==2.0.1", True)
    pair = m.companions("2.7.1+cu126")
    assert pair is not None
    assert (pair.torchvision, pair.torchaudio) == ("==0.22.1", "==2.7.1")
    # no torchaudio after 2.11, and 2.11.0 declares no torch requirement at all
    release = m.release_for("2.12.1")
    assert release is not None
    assert (release.torchaudio, release.audio_requires) == ("2.11.0", None)
    # torchvision stops pinning torch exactly with 0.29.1
    assert m.release_for("2.14.0") is not None and m.release_for("2.14.0").vision_requires == "==2.14.0"  # type: ignore[union-attr]
    assert m.release_for("2.15.0") is not None and m.release_for("2.15.0").vision_requires == ">=2.14.0"  # type: ignore[union-attr]
    assert m.release_for("2.14.1") is not None and m.release_for("2.14.1").torchvision == "0.29.1"  # type: ignore[union-attr]


def test_companion_ranges_for_a_line_or_an_unlisted_patch(m: Matrix) -> None:
    ranges = m.companions(line(m, "2.7"))
    assert ranges is not None
    assert (ranges.torchvision, ranges.torchaudio, ranges.exact) == (">=0.22,<0.23", ">=2.7,<2.8", False)
    ranges = m.companions("2.15.7")
    assert ranges is not None
    assert (ranges.torchvision, ranges.torchaudio) == (">=0.29.2,<0.30", ">=2.11,<2.12")
    assert m.companions("3.0.0") is None


def test_every_release_is_paired_with_companions_that_accept_it(m: Matrix) -> None:
    for each in m.torch_lines:
        for release in each.releases:
            for requires in (release.vision_requires, release.audio_requires):
                if requires is not None:
                    assert SpecifierSet(requires).contains(release.torch)
            assert release.cuda == each.default_cuda


def test_every_line_cites_each_fact_and_says_what_was_verified(m: Matrix) -> None:
    for each in m.torch_lines:
        for field in (
            "releases",
            "python",
            "wheel_platform",
            "default_cuda",
            "cuda_variants",
            "rocm_variants",
        ):
            assert each.source_of(field), (each.torch, field)
        assert each.is_verified("default_cuda") and each.is_verified("releases")
        assert not each.is_verified("cuda_variants")
        assert (each.source_of("arch") is not None) == bool(each.arch)


def test_the_data_stores_no_url() -> None:
    """Index locations are relative paths joined to a base the user configures (hosts: test_architecture)."""
    text = DATA.read_text(encoding="utf-8").lower()
    assert "://" not in text
    assert load_matrix().wheel_index_path == "whl/{variant}"


# ------------------------------------------------------------------------------------------- lookups


def test_line_for(m: Matrix) -> None:
    assert line(m, "2.7.1").torch == "2.7"
    assert line(m, "2.7.1+cu126").torch == "2.7"
    assert line(m, "2.8.0a0+5228986c39").torch == "2.8"
    assert line(m, "1.10.1").torch == "1.10"
    assert m.line_for("1.3.1") is None
    assert m.line_for("not a version") is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">=2.0.0,<2.1.0", ["2.0"]),
        ("==2.7.1+cu126", ["2.7"]),
        ("==2.7.*", ["2.7"]),
        ("~=2.13.0", ["2.13"]),
        (">=2.13", ["2.13", "2.14", "2.15"]),
        (">2.14.1,<2.15", ["2.14"]),  # 2.14.2 is not on the index, but a range can select it
        ("<1.4", []),
        ("<1.12", [f"1.{minor}" for minor in range(4, 12)]),
        ("==2.7.9", ["2.7"]),
    ],
)
def test_lines_in(m: Matrix, spec: str, expected: list[str]) -> None:
    assert [x.torch for x in m.lines_in(SpecifierSet(spec))] == expected
    assert [x.torch for x in m.lines_in(spec)] == expected


@given(st.data())
def test_lines_in_finds_the_line_of_every_release(data: st.DataObject) -> None:
    matrix = load_matrix()
    each = data.draw(st.sampled_from(matrix.torch_lines))
    release = data.draw(st.sampled_from(each.releases))
    assert matrix.lines_in(f"=={release.torch}") == (each,)
    assert each in matrix.lines_in(f">={release.torch}")
    assert each not in matrix.lines_in(f"<{each.releases[0].torch}")


def test_variants_for_a_target_cuda(m: Matrix) -> None:
    l27 = line(m, "2.7")
    assert m.variants_for(l27, "12.8") == ("cu126", "cu128")
    assert m.variants_for("2.7", CudaVersion(major=12, minor=6)) == ("cu126",)
    assert m.variants_for(l27, "12.4") == ()  # cu126 would run only under minor-version compatibility
    assert m.variants_for(l27, "11.8.0") == ("cu118",)
    assert m.variants_for("2.15", "13.2") == ()  # variants unknown
    assert m.variants_for("9.9", "12.8") == ()


def test_parse_variant() -> None:
    assert parse_variant("cu128").cuda == CudaVersion(major=12, minor=8)
    assert parse_variant("cu118").cuda == CudaVersion(major=11, minor=8)
    assert parse_variant("cu130").cuda == CudaVersion(major=13, minor=0)
    assert parse_variant("cu102").cuda == CudaVersion(major=10, minor=2)
    assert parse_variant("rocm6.2.4").rocm == (6, 2, 4)
    assert parse_variant("CPU").kind == "cpu"
    assert str(CudaVersion.parse("12.8.1")) == "12.8"
    assert CudaVersion.parse("12.8").tag == "cu128"
    for bad in ("cuda12", "cu1", "rocm", "gpu"):
        with pytest.raises(VariantError):
            parse_variant(bad)
    with pytest.raises(ValueError, match="not a CUDA version"):
        CudaVersion.parse("twelve")


def test_index_paths_are_relative(m: Matrix) -> None:
    assert m.index_path("cu128") == "whl/cu128"
    assert m.index_path("cpu") == "whl/cpu"
    assert m.index_path("rocm6.3") == "whl/rocm6.3"


def test_arch(m: Matrix) -> None:
    assert {"sm_100", "sm_120"} <= set(m.arch_for("cu128", torch="2.7"))
    assert "sm_37" in m.arch_for("cu118", torch="2.0")
    assert "sm_50" not in m.arch_for("cu128", torch="2.8")
    assert m.arch_for("cu128") == m.arch_for("cu128", torch="2.8")  # newest line that lists it
    assert m.arch_for("cu130") == ()


# ------------------------------------------------------------------------------------------- drivers


@pytest.mark.parametrize(
    ("driver", "cuda", "support"),
    [
        ("535.104", "12.2", DriverSupport.FULL),
        ("535.104.05", "12.8", DriverSupport.MINOR_COMPAT),
        ("525.60.13", "12.6", DriverSupport.MINOR_COMPAT),
        ("525.60.12", "12.1", DriverSupport.UNSUPPORTED),
        ("470.82.01", "12.1", DriverSupport.UNSUPPORTED),
        ("470.82.01", "11.8", DriverSupport.MINOR_COMPAT),
        ("575.51.03", "13.0", DriverSupport.UNSUPPORTED),
        ("580.65.06", "13.0", DriverSupport.FULL),
        ("580.65.06", "13.2", DriverSupport.MINOR_COMPAT),
        ("580.65.06", "12.8", DriverSupport.FULL),
        ("590.44.01", "11.8", DriverSupport.FULL),
        ("440.33", "10.2", DriverSupport.FULL),
        ("435.21", "10.2", DriverSupport.UNSUPPORTED),
        ("999", "14.0", DriverSupport.UNKNOWN),
    ],
)
def test_driver_rule(m: Matrix, driver: str, cuda: str, support: DriverSupport) -> None:
    assert m.driver_support(driver, cuda) is support
    assert m.driver_supports(driver, cuda) is (support in {DriverSupport.FULL, DriverSupport.MINOR_COMPAT})


def test_min_driver(m: Matrix) -> None:
    need = m.min_driver("12.8")
    assert need is not None
    assert (need.min_driver, need.minor_compat_min, need.verified) == ("570.26", "525.60.13", True)
    need = m.min_driver("13.0.2")
    assert need is not None and need.min_driver == "580.65.06" and need.minor_compat_min == "580"
    need = m.min_driver("10.2")
    assert need is not None and need.minor_compat_min is None
    assert m.min_driver("9.0") is None
    with pytest.raises(ValueError, match="driver"):
        m.driver_support("R535", "12.2")


@given(st.tuples(st.integers(400, 700), st.integers(0, 200), st.integers(0, 99)), st.integers(0, 200))
def test_a_newer_driver_never_supports_less(driver: tuple[int, int, int], bump: int) -> None:
    matrix = load_matrix()
    old = ".".join(map(str, driver))
    new = ".".join(map(str, (driver[0] + bump, *driver[1:])))
    order = [DriverSupport.UNSUPPORTED, DriverSupport.MINOR_COMPAT, DriverSupport.FULL]
    for toolkit in matrix.toolkits:
        before, after = matrix.driver_support(old, toolkit.cuda), matrix.driver_support(new, toolkit.cuda)
        assert order.index(after) >= order.index(before)


def test_every_default_cuda_runs_fully_on_its_toolkit_driver(m: Matrix) -> None:
    for each in m.torch_lines:
        assert each.default_cuda is not None
        need = m.min_driver(each.default_cuda)
        assert need is not None and need.min_driver is not None
        assert m.driver_support(need.min_driver, each.default_cuda) is DriverSupport.FULL


# ------------------------------------------------------------------------------------------ NGC and glibc


def test_ngc_lookups(m: Matrix) -> None:
    image = m.ngc("24.05")
    assert image is not None
    assert (image.torch, image.cuda, image.python, image.ubuntu) == (
        "2.4.0a0+07cecf4168",
        "12.4.1",
        "3.10",
        "22.04",
    )
    image = m.ngc("nvcr.io/nvidia/pytorch:25.01-py3")
    assert image is not None and (image.torch, image.cuda, image.ubuntu) == (
        "2.6.0a0+ecf3bae40a",
        "12.8.0",
        "24.04",
    )
    assert m.ngc("23.03-py3") is not None and m.ngc("23.03-py3").python == "3.8"  # type: ignore[union-attr]
    assert m.ngc("99.99") is None
    for image in m.ngc_images:
        assert Version(image.torch).is_prerelease
        assert m.line_for(image.torch) is not None or image.torch.startswith("1.14")


@pytest.mark.parametrize(
    ("distro", "glibc"),
    [
        ("ubuntu20.04", "2.31"),
        ("ubuntu22.04", "2.35"),
        ("ubuntu24.04", "2.39"),
        ("ubuntu:22.04", "2.35"),
        ("jammy", "2.35"),
        ("debian:bookworm-slim", "2.36"),
        ("rockylinux8", "2.28"),
        ("rockylinux:9", "2.34"),
        ("redhat/ubi8", "2.28"),
        ("ubi9", "2.34"),
        ("centos:7", "2.17"),
        ("python:3.12-slim", "2.41"),  # the default suite is trixie since 2025-08
        ("python:3.11-slim-bookworm", "2.36"),
        ("python:3.10-slim-bullseye", "2.31"),
        ("nvidia/cuda:12.8.0-base-ubuntu22.04", "2.35"),
    ],
)
def test_glibc_for(m: Matrix, distro: str, glibc: str) -> None:
    found = m.glibc_for(distro)
    assert found is not None
    assert found.glibc == glibc
    assert found.manylinux == "manylinux_" + glibc.replace(".", "_")


def test_glibc_unknowns_and_the_torch_2_7_floor(m: Matrix) -> None:
    assert m.glibc_for("python:3.12-alpine") is None
    assert m.glibc_for("windows") is None
    floor = Version(line(m, "2.7").glibc_min)
    assert Version(m.glibc_for("ubuntu20.04").glibc) >= floor  # type: ignore[union-attr]
    assert Version(m.glibc_for("centos7").glibc) < floor  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------------ schema


def document() -> Any:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def entry(doc: Any, torch: str) -> Any:
    return next(x for x in doc["torch"] if x["line"] == torch)


def broken(doc: Any) -> MatrixError:
    with pytest.raises(MatrixError) as caught:
        load_matrix(yaml.safe_dump(doc, sort_keys=False), source="broken.yaml")
    return caught.value


def test_missing_key_names_the_line() -> None:
    doc = document()
    del entry(doc, "2.7")["default_cuda"]
    error = broken(doc)
    assert error.entry == "torch[2.7]"
    assert "missing required key 'default_cuda'" in str(error)
    assert str(error).startswith("broken.yaml: torch[2.7]: ")


def test_bad_variant_names_the_item() -> None:
    doc = document()
    entry(doc, "2.7")["cuda_variants"][2] = "cuda12.8"
    assert broken(doc).entry == "torch[2.7].cuda_variants[2]"
    doc = document()
    entry(doc, "2.7")["cuda_variants"] = ["cu128", "cu126"]
    assert "out of order" in str(broken(doc))


def test_duplicate_line() -> None:
    doc = document()
    doc["torch"].append(entry(doc, "2.15"))
    error = broken(doc)
    assert error.entry == "torch[2.15]"
    assert "out of order or repeated" in error.message


def test_missing_or_empty_source() -> None:
    doc = document()
    del entry(doc, "2.3")["source"]
    assert (broken(doc).entry, "missing required key 'source'" in str(broken(doc))) == ("torch[2.3]", True)
    doc = document()
    entry(doc, "2.3")["source"]["cuda_variants"] = " "
    assert broken(doc).entry == "torch[2.3].source.cuda_variants"
    doc = document()
    del entry(doc, "2.3")["source"]["python"]
    assert broken(doc).entry == "torch[2.3].source"


def test_more_broken_copies() -> None:
    doc = document()
    entry(doc, "2.7")["defualt_cuda"] = "12.6"
    assert "unknown key 'defualt_cuda'" in str(broken(doc))
    doc = document()
    entry(doc, "2.7")["releases"][1]["vision_requires"] = "==2.7.0"
    assert broken(doc).entry == "torch[2.7].releases[2.7.1].vision_requires"
    doc = document()
    entry(doc, "2.7")["releases"][0]["cuda"] = "12.8"
    assert broken(doc).entry == "torch[2.7].releases[2.7.0].cuda"
    doc = document()
    entry(doc, "2.7")["releases"][0]["torch"] = "2.8.0"
    assert broken(doc).entry == "torch[2.7].releases[2.8.0].torch"
    doc = document()
    doc["cuda_drivers"]["toolkits"] = [t for t in doc["cuda_drivers"]["toolkits"] if t["cuda"] != "12.6"]
    assert "CUDA 12.6 has no cuda_drivers.toolkits row" in str(broken(doc))
    doc = document()
    doc["ngc"][0]["cuda"] = "twelve"
    assert broken(doc).entry == "ngc[23.01].cuda"
    doc = document()
    doc["glibc"]["distros"][0]["aliases"].append("jammy")
    assert broken(doc).entry == "glibc.distros[ubuntu22.04].name"  # the second distro to claim "jammy"
    doc = document()
    doc["wheel_index"]["path"] = "https://example.invalid/whl/{variant}"
    assert broken(doc).entry == "wheel_index.path"


def test_errors_are_values_errors_and_yaml_errors_are_translated() -> None:
    with pytest.raises(MatrixError) as caught:
        load_matrix("torch: [", source="x.yaml")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, RelaxPinsError)
    assert "not valid YAML" in str(caught.value)
    with pytest.raises(MatrixError, match="expected a mapping"):
        load_matrix("- 1\n")
    doc = document()
    entry(doc, "2.7")["releases"][0]["uploaded"] = "2025/04/23"
    assert broken(doc).entry == "torch[2.7].releases[2.7.0].uploaded"


# ---------------------------------------------------------------------------------------------- shipping


def test_the_builtin_is_the_repo_file_and_is_loaded_once() -> None:
    assert builtin_path() == DATA
    assert load_matrix() is load_matrix()
    assert load_matrix() == load_matrix(DATA.read_text(encoding="utf-8"), source="copy")


def test_the_wheel_ships_the_repo_file_where_the_module_looks() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = pyproject.split("[tool.hatch.build.targets.wheel.force-include]", 1)[1].split("\n[", 1)[0]
    assert f'"data/{MATRIX_FILE}" = "resolver/data/{MATRIX_FILE}"' in section


def test_an_installed_layout_finds_its_own_copy(tmp_path: Path) -> None:
    package = tmp_path / "resolver"
    (package / "data").mkdir(parents=True)
    (package / "cuda").mkdir()
    for name in ("__init__.py", "errors.py", "yamlio.py", "cuda/__init__.py", "cuda/matrix.py", "cuda/schema.py"):
        (package / name).write_bytes((ROOT / "resolver" / name).read_bytes())
    (package / "data" / MATRIX_FILE).write_bytes(DATA.read_bytes())
    code = "from resolver.cuda.matrix import builtin_path as p, load_matrix as m; print(p()); print(m().newest.torch)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    path, newest = done.stdout.split()
    assert Path(path) == package / "data" / MATRIX_FILE
    assert newest == load_matrix().newest.torch


# ------------------------------------------------------------------------------------- the research script


def facts_module() -> Any:
    return load_script("scripts/matrix_facts.py", "matrix_facts")


def test_the_script_reads_one_member_out_of_a_zip_by_ranges(tmp_path: Path) -> None:
    mf = facts_module()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("torch/__init__.py", "x = 1\n" * 1000)
        archive.writestr("torch-2.7.1.dist-info/METADATA", "Name: torch\nRequires-Dist: triton==3.3.1\n")
    blob = buffer.getvalue()

    class Ranged(mf.Fetcher):  # type: ignore[misc, name-defined]
        def get(self, url: str, *, accept: str | None = None, byte_range: str | None = None) -> bytes:
            self.requests += 1
            start, end = (int(x) for x in (byte_range or f"0-{len(blob) - 1}").split("-"))
            return blob[start : end + 1]

    fetch = Ranged(cache=tmp_path)
    found = mf.read_member(fetch, "mem://wheel", len(blob), mf.re.compile(r"[^/]+\.dist-info/METADATA"))
    assert found is not None and b"triton==3.3.1" in found[1]
    assert fetch.requests == 4  # tail, central directory, local header, member


def test_the_script_reads_cuda_and_triton_pins() -> None:
    mf = facts_module()
    metadata = (
        "Metadata-Version: 2.1\nName: torch\n"
        'Requires-Dist: nvidia-cuda-runtime-cu12==12.6.77; platform_machine == "x86_64"\n'
        'Requires-Dist: triton==3.3.1; platform_system == "Linux" and platform_machine == "x86_64"\n'
        'Requires-Dist: cuda-toolkit[cudart]==13.2.2; platform_system == "Linux" and python_version < "3.9"\n'
    )
    assert mf.torch_facts(mf._requirements(metadata, "x86_64", "3.11"))["cuda"] == "12.6"
    assert mf.torch_facts(mf._requirements(metadata, "x86_64", "3.11"))["triton"] == "==3.3.1"
    assert mf.torch_facts(mf._requirements(metadata, "aarch64", "3.11"))["cuda"] is None
