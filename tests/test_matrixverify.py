"""The maintainer's matrix check against the loopback index: a faithful universe, then one discrepancy each.

The universe is built from the shipped matrix itself: for every listed release, a torch wheel tagged for the
line's CPython span and platform, requiring its CUDA runtime and triton, and torchvision/torchaudio wheels
declaring the torch requirement the matrix records. A faithful universe must give no discrepancy at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resolver.cuda.matrix import Matrix, load_matrix
from resolver.index.client import IndexClient
from resolver.index.settings import IndexSettings
from resolver.pipeline.matrix import verify_matrix
from tests.indexserver.model import IndexFile, Project, dist
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache

MATRIX = load_matrix()
LINUX = 'platform_system == "Linux" and platform_machine == "x86_64"'


def _cuda_pin(cuda: str) -> str:
    major = cuda.split(".", 1)[0]
    if int(major) >= 13:
        return f"cuda-toolkit[cudart,cublas]=={cuda}.2; {LINUX}"
    return f"nvidia-cuda-runtime-cu{major}=={cuda}.99; {LINUX}"


def _tags(python_min: str, python_max: str, platform: str) -> str:
    lo, hi = int(python_min.split(".")[1]), int(python_max.split(".")[1])
    cps = ".".join(f"cp3{m}" for m in range(lo, hi + 1))
    return f"{cps}-{cps}-{platform}_x86_64"


def publish_matrix(
    server: IndexServer,
    wheels: WheelCache,
    matrix: Matrix,
    *,
    cuda_override: dict[str, str] | None = None,
    extra: dict[str, list[tuple[str, list[str], str]]] | None = None,
) -> None:
    """Serve every release of ``matrix``; ``cuda_override`` changes one release's pin, ``extra`` adds releases."""
    files: dict[str, dict[str, IndexFile]] = {"torch": {}, "torchvision": {}, "torchaudio": {}}
    for line in matrix.torch_lines:
        for row in line.releases:
            requires = (
                []
                if row.cuda is None or line.torch == "1.12"
                else [_cuda_pin((cuda_override or {}).get(row.torch, row.cuda))]
            )
            if row.triton:
                requires.append(f'triton{row.triton}; platform_system == "Linux"')
            when = f"{row.uploaded}T12:00:00Z"
            path = wheels.wheel(
                "torch",
                row.torch,
                requires_dist=tuple(requires),
                tags=_tags(line.python_min, line.python_max, line.wheel_platform),
            )
            files["torch"][row.torch] = dist(path, requires_python=f">={line.python_min}", upload_time=when)
            for name, version, pin in (
                ("torchvision", row.torchvision, row.vision_requires),
                ("torchaudio", row.torchaudio, row.audio_requires),
            ):
                if version not in files[name]:
                    # torchvision 0.29 ships only py3-none-<platform> wheels on the main index, no none-any.
                    platform_only = name == "torchvision" and version.startswith("0.29")
                    tags = "py3-none-manylinux_2_28_x86_64" if platform_only else "py3-none-any"
                    path = wheels.wheel(name, version, requires_dist=(f"torch{pin}",) if pin else (), tags=tags)
                    files[name][version] = dist(path, upload_time=when)
    for name, releases in (extra or {}).items():
        for version, requires, day in releases:
            tags = _tags("3.11", "3.14", "manylinux_2_28") if name == "torch" else "py3-none-any"
            path = wheels.wheel(name, version, requires_dist=tuple(requires), tags=tags)
            files[name][version] = dist(path, upload_time=f"{day}T12:00:00Z")
    for name, by_version in files.items():
        server.add(Project(name, list(by_version.values())))


@pytest.fixture
def client(index_server: IndexServer) -> Iterator[IndexClient]:
    settings = IndexSettings(index_url=index_server.url)
    with IndexClient(settings, retries=1, backoff=0.01, timeout=5.0, netrc=False) as index_client:
        yield index_client


def test_a_faithful_index_gives_no_discrepancy(
    index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient
) -> None:
    publish_matrix(index_server, wheel_cache, MATRIX)
    assert verify_matrix(MATRIX, client) == []


def test_one_wrong_cuda_pin_is_the_one_discrepancy(
    index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient
) -> None:
    publish_matrix(index_server, wheel_cache, MATRIX, cuda_override={"2.7.1": "12.8"})
    (found,) = verify_matrix(MATRIX, client)
    assert (found.subject, found.field, found.matrix, found.index) == ("torch 2.7.1", "cuda", "12.6", "12.8")
    assert str(found) == "torch 2.7.1: the matrix says CUDA 12.6, the x86_64 wheel pins CUDA 12.8"


def test_a_new_torch_line_comes_with_the_row_to_add(
    index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient
) -> None:
    extra = {
        "torch": [("2.16.0", [_cuda_pin("13.2"), 'triton~=3.10.0; platform_system == "Linux"'], "2026-12-09")],
        "torchvision": [("0.30.0", ["torch>=2.16.0"], "2026-12-09")],
    }
    publish_matrix(index_server, wheel_cache, MATRIX, extra=extra)
    (found,) = verify_matrix(MATRIX, client, lines={"2.15"})
    assert (found.subject, found.field, found.matrix, found.index) == ("torch 2.16.0", "line", "2.15", "2.16")
    assert found.suggestion == (
        '- {torch: "2.16.0", torchvision: "0.30.0", vision_requires: ">=2.16.0", torchaudio: "2.11.0", '
        'audio_requires: null, triton: "~=3.10.0", cuda: "13.2", uploaded: "2026-12-09"}'
    )


def test_an_index_without_torch(client: IndexClient) -> None:
    (found,) = verify_matrix(MATRIX, client)
    assert found.field == "release" and "no torch releases" in found.message
