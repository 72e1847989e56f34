"""The CUDA <-> PyTorch domain, pure but for :mod:`resolver.cuda.hardware` (the local driver): the matrix over
``data/cuda_torch_matrix.yaml``, its schema, torch builds and variants, targets, the torch family, and checks."""

from __future__ import annotations

__all__: list[str] = []
