"""Image references of ``FROM`` lines, and what the well-known ML base images say about themselves.

:func:`parse_image_ref` splits ``[registry/]repository[:tag][@digest]`` the way the Docker reference grammar
does: the first path component is a registry when it holds a ``.`` or a ``:`` or is ``localhost``; the tag is
after the last ``:`` that follows the last ``/``. It is lenient: a reference that still holds an unresolved
``${VAR}`` is split all the same, and nothing is validated beyond that (an invalid name is the builder's to
reject, and a checker is more useful if it keeps reading).

:func:`recognise` names the families whose tags encode the CUDA/PyTorch/Python stack:

==========================  ==================================================  ========================
repository                  tag shape                                           result
==========================  ==================================================  ========================
``nvidia/cuda``             ``12.8.0-base-ubuntu22.04``,                        :class:`CudaImage`
                            ``11.1.1-cudnn8-devel-ubuntu18.04``
``pytorch/pytorch``         ``2.1.0-cuda12.1-cudnn8-runtime``                   :class:`PytorchImage`
``nvcr.io/nvidia/pytorch``  ``24.05-py3``                                       :class:`NgcPytorchImage`
``python``                  ``3.11``, ``3.10.9-slim``, ``3.12-slim-bookworm``   :class:`PythonImage`
==========================  ==================================================  ========================

Anything else, including these repositories under other registries or mirrors, is :class:`OtherImage`. A
known repository with a tag of another shape (``latest``, an unresolved variable) is recognised with ``None``
fields. What a tag *contains* (the torch inside an NGC release, the driver a CUDA image needs) is the matrix
module's business, not this one's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

__all__ = [
    "CudaImage",
    "ImageRef",
    "NgcPytorchImage",
    "OtherImage",
    "PythonImage",
    "PytorchImage",
    "RecognisedImage",
    "image_ships_python",
    "parse_image_ref",
    "recognise",
]

_DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRef:
    """One image reference as written (``registry`` is ``None`` when the reference names none)."""

    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The repository with Docker Hub spelled out of it: ``docker.io/library/python`` -> ``python``."""
        if self.registry is None or self.registry in _DOCKER_HUB:
            return self.repository.removeprefix("library/")
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.repository if self.registry is None else f"{self.registry}/{self.repository}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_image_ref(text: str) -> ImageRef:
    """Split an image reference; surrounding blanks are ignored. Raises ``ValueError`` on an empty one."""
    rest = text.strip()
    if not rest:
        raise ValueError("empty image reference")
    rest, at, digest = rest.partition("@")
    registry: str | None = None
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    tag: str | None = None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        rest, tag = rest[:colon], rest[colon + 1 :]
    return ImageRef(registry=registry, repository=rest, tag=tag, digest=digest if at else None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaImage:
    """``nvidia/cuda:<cuda>-<flavor>-<os>``; ``flavor`` is ``base``, ``runtime``, ``devel`` or a cuDNN one."""

    kind: ClassVar[str] = "cuda"
    ref: ImageRef
    cuda: str | None
    flavor: str | None
    os: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PytorchImage:
    """``pytorch/pytorch:<torch>-cuda<cuda>-cudnn<cudnn>-<flavor>``; ``latest`` leaves the fields ``None``."""

    kind: ClassVar[str] = "pytorch"
    ref: ImageRef
    torch: str | None
    cuda: str | None
    cudnn: str | None
    flavor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NgcPytorchImage:
    """``nvcr.io/nvidia/pytorch:<yy.mm>-py3``: ``tag`` is the release (``24.05``), ``suffix`` the rest."""

    kind: ClassVar[str] = "ngc-pytorch"
    ref: ImageRef
    tag: str | None
    suffix: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonImage:
    """The official ``python`` image: ``python`` is the version part of the tag, ``variant`` the rest."""

    kind: ClassVar[str] = "python"
    ref: ImageRef
    python: str | None
    variant: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherImage:
    """Any other image."""

    kind: ClassVar[str] = "other"
    ref: ImageRef


RecognisedImage: TypeAlias = "CudaImage | PytorchImage | NgcPytorchImage | PythonImage | OtherImage"

_CUDA_TAG = re.compile(
    r"(?P<cuda>\d+\.\d+(?:\.\d+)?)-(?P<flavor>(?:cudnn\d*-)?(?:base|runtime|devel))(?:-(?P<os>[a-z]+[0-9][0-9.]*))?"
)
_PYTORCH_TAG = re.compile(
    r"(?P<torch>\d+\.\d+(?:\.\d+)?)-cuda(?P<cuda>\d+\.\d+)-cudnn(?P<cudnn>\d+)-(?P<flavor>runtime|devel)"
)
_NGC_TAG = re.compile(r"(?P<tag>\d{2}\.\d{2})-(?P<suffix>py3.*)")
_PYTHON_TAG = re.compile(r"(?P<python>\d+(?:\.\d+){0,2}(?:(?:a|b|rc)\d+)?)(?:-(?P<variant>.+))?")


def recognise(ref: ImageRef | str) -> RecognisedImage:
    """Name the image family of ``ref`` and read its tag (see the module docstring for the table)."""
    if isinstance(ref, str):
        ref = parse_image_ref(ref)
    tag = ref.tag or ""
    name = ref.name
    if name in ("nvidia/cuda", "nvcr.io/nvidia/cuda"):
        m = _CUDA_TAG.fullmatch(tag)
        return CudaImage(
            ref=ref,
            cuda=m["cuda"] if m else None,
            flavor=m["flavor"] if m else None,
            os=m["os"] if m else None,
        )
    if name == "pytorch/pytorch":
        m = _PYTORCH_TAG.fullmatch(tag)
        return PytorchImage(
            ref=ref,
            torch=m["torch"] if m else None,
            cuda=m["cuda"] if m else None,
            cudnn=m["cudnn"] if m else None,
            flavor=m["flavor"] if m else None,
        )
    if name == "nvcr.io/nvidia/pytorch":
        m = _NGC_TAG.fullmatch(tag)
        return NgcPytorchImage(ref=ref, tag=m["tag"] if m else None, suffix=m["suffix"] if m else None)
    if name == "python":
        m = _PYTHON_TAG.fullmatch(tag)
        if m:
            return PythonImage(ref=ref, python=m["python"], variant=m["variant"])
        return PythonImage(ref=ref, python=None, variant=ref.tag)
    return OtherImage(ref=ref)


def image_ships_python(image: RecognisedImage) -> bool | None:
    """Whether the image comes with a Python interpreter: yes for python/pytorch/NGC, no for nvidia/cuda.

    ``None`` for any other image: relax-pins cannot know without pulling it.
    """
    if isinstance(image, CudaImage):
        return False
    if isinstance(image, PythonImage | PytorchImage | NgcPytorchImage):
        return True
    return None
