"""Putting a generated fill into the damaged image: plain overlay, or Poisson blending.

Poisson image editing (Perez et al. 2003), as the seed paper uses it to hide the seam
between the generator's fill and the known pixels: inside the hole, find ``f`` with the
discrete Laplacian of the fill, ``div f = div generated``, and ``f = target`` on the known
pixels around the hole (Dirichlet boundary condition). On the 4-neighbourhood, for each
hole pixel ``p`` with in-image neighbours ``N(p)``::

    |N(p)| f_p - sum_{q in N(p), q in hole} f_q
        = sum_{q in N(p), q known} target_q + sum_{q in N(p)} (generated_p - generated_q)

Neighbours outside the image are simply absent (a Neumann-like free border). The system
is solved exactly with a sparse LU factorisation, once per image, for the 3 channels at
once. A fill whose gradients equal the truth's (the truth plus a constant) thus gives back
the truth exactly.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import torch
from torch import Tensor

from inpaint_toolkit.core.errors import InpaintError

BLENDS = ("poisson", "overlay")

# (row step, column step) of the 4-neighbourhood.
_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def overlay(generated: Tensor, target: Tensor, known: Tensor) -> Tensor:
    """``known * target + (1 - known) * generated``: the fill pasted into the hole as is."""
    _check(generated, target, known)
    return known * target + (1.0 - known) * generated


def poisson_blend(generated: Tensor, target: Tensor, known: Tensor) -> Tensor:
    """Poisson-blend ``generated`` into the hole of ``target``; known pixels are kept.

    ``generated`` and ``target``: ``(B, C, H, W)`` in [-1, 1]; ``known``: ``(B, 1, H, W)``,
    1.0 = known (a pixel counts as known from 0.5 up). An image with no hole comes back as
    ``target``; an image that is all hole has no boundary condition, so it comes back as
    ``generated``. The result is clamped to [-1, 1].
    """
    _check(generated, target, known)
    results = []
    for fill, image, mask in zip(generated, target, known, strict=True):
        results.append(_poisson_one(fill, image, mask[0] >= 0.5))
    return torch.stack(results).clamp(-1.0, 1.0)


def blend(name: str, generated: Tensor, target: Tensor, known: Tensor) -> Tensor:
    """Dispatch on the blend's name: ``poisson`` (the paper's) or ``overlay``."""
    if name == "poisson":
        return poisson_blend(generated, target, known)
    if name == "overlay":
        return overlay(generated, target, known)
    raise InpaintError(f"unknown blend {name!r}; choose one of: {', '.join(BLENDS)}")


def _poisson_one(generated: Tensor, target: Tensor, known: Tensor) -> Tensor:
    """One image: ``generated``/``target`` ``(C, H, W)``, ``known`` ``(H, W)`` bool."""
    hole = ~known.cpu().numpy()
    if not hole.any():
        return target.clone()
    if hole.all():
        return generated.clone()
    height, width = hole.shape
    fill = generated.detach().cpu().double().numpy()  # (C, H, W)
    image = target.detach().cpu().double().numpy()

    # Number the unknowns: the hole pixels in row-major order.
    index = np.full((height, width), -1, dtype=np.int64)
    rows, cols = np.nonzero(hole)
    count = rows.size
    index[rows, cols] = np.arange(count)

    degree = np.zeros(count)
    rhs = np.zeros((count, fill.shape[0]))  # one column per channel
    coupling_rows, coupling_cols = [], []
    for step_row, step_col in _NEIGHBOURS:
        other_rows, other_cols = rows + step_row, cols + step_col
        inside = (
            (other_rows >= 0) & (other_rows < height) & (other_cols >= 0) & (other_cols < width)
        )
        me = np.nonzero(inside)[0]
        q_rows, q_cols = other_rows[inside], other_cols[inside]
        degree[me] += 1
        # Guidance: the fill's own difference across this edge, p minus q.
        rhs[me] += (fill[:, rows[me], cols[me]] - fill[:, q_rows, q_cols]).T
        other = index[q_rows, q_cols]
        unknown = other >= 0
        coupling_rows.append(me[unknown])
        coupling_cols.append(other[unknown])
        # A known neighbour is the boundary condition: moved to the right-hand side.
        rhs[me[~unknown]] += image[:, q_rows[~unknown], q_cols[~unknown]].T

    off_rows = np.concatenate(coupling_rows)
    off_cols = np.concatenate(coupling_cols)
    matrix = scipy.sparse.csc_matrix(
        (
            np.concatenate([degree, -np.ones(off_rows.size)]),
            (
                np.concatenate([np.arange(count), off_rows]),
                np.concatenate([np.arange(count), off_cols]),
            ),
        ),
        shape=(count, count),
    )
    # Every hole component touches a known pixel (the pixel grid is connected and not all
    # hole), so the matrix is non-singular; one factorisation serves every channel.
    solution = scipy.sparse.linalg.splu(matrix).solve(rhs)  # (count, C)

    result = image.copy()
    result[:, rows, cols] = solution.T
    return torch.from_numpy(result).to(dtype=target.dtype, device=target.device)


def _check(generated: Tensor, target: Tensor, known: Tensor) -> None:
    if generated.dim() != 4 or generated.shape != target.shape:
        raise ValueError(
            f"generated {tuple(generated.shape)} and target {tuple(target.shape)} must be the "
            "same (B, C, H, W)"
        )
    expected = (target.shape[0], 1, *target.shape[-2:])
    if tuple(known.shape) != expected:
        raise ValueError(f"known mask is {tuple(known.shape)}, expected {expected}")
