"""Dynamic time warping: exact (numba-compiled, O(n m)) and approximate (fastdtw, O(n + m)).

Pure functions over numpy arrays. The step pattern is the classic symmetric one, as in librosa's
`sequence.dtw` defaults and fastdtw: from (i, j) the path moves to (i+1, j+1), (i+1, j) or (i, j+1),
each step adding the cost of the cell it lands on, so the total cost of a path is the sum of the
costs of its cells. The exact and approximate functions therefore report comparable totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["DtwResult", "cost_matrix", "paired_costs", "dtw", "dtw_fast", "subsequence_dtw", "path_costs"]


@dataclass(frozen=True)
class DtwResult:
    """An optimal warping path and its cost."""

    cost: float  # sum of the cost-matrix cells along the path
    path: np.ndarray  # int64, shape (path_length, 2): (row in x, column in y), both non-decreasing


def cost_matrix(x: np.ndarray, y: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Pairwise frame distances.

    x: shape (n, d); y: shape (m, d): frames in rows.
    metric: "euclidean" or "cosine" (1 - cosine similarity, 0..2).
    Returns float64, shape (n, m).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"need two 2-d arrays with the same number of columns, got {x.shape} and {y.shape}")
    if metric == "cosine":
        xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        yn = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
        return np.clip(1.0 - xn @ yn.T, 0.0, 2.0)
    if metric == "euclidean":
        squared = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
        return np.sqrt(np.maximum(squared, 0.0))
    raise ValueError(f"unknown metric {metric!r}; use 'euclidean' or 'cosine'")


def paired_costs(x: np.ndarray, y: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Distances between row i of x and row i of y only (the cells on a path), in linear memory.

    x, y: shape (k, d). Returns float64, shape (k,): the diagonal of cost_matrix(x, y, metric).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"need two 2-d arrays of the same shape, got {x.shape} and {y.shape}")
    if metric == "cosine":
        norms = np.maximum(np.linalg.norm(x, axis=1), 1e-12) * np.maximum(np.linalg.norm(y, axis=1), 1e-12)
        return np.clip(1.0 - (x * y).sum(1) / norms, 0.0, 2.0)
    if metric == "euclidean":
        return np.linalg.norm(x - y, axis=1)
    raise ValueError(f"unknown metric {metric!r}; use 'euclidean' or 'cosine'")


@numba.njit(cache=True, nogil=True)
def _accumulate(cost: np.ndarray, free_start: bool) -> np.ndarray:  # pragma: no cover - compiled
    n, m = cost.shape
    acc = np.empty((n, m))
    acc[0, 0] = cost[0, 0]
    for j in range(1, m):
        acc[0, j] = cost[0, j] if free_start else acc[0, j - 1] + cost[0, j]
    for i in range(1, n):
        acc[i, 0] = acc[i - 1, 0] + cost[i, 0]
        for j in range(1, m):
            best = acc[i - 1, j - 1]
            if acc[i - 1, j] < best:
                best = acc[i - 1, j]
            if acc[i, j - 1] < best:
                best = acc[i, j - 1]
            acc[i, j] = cost[i, j] + best
    return acc


@numba.njit(cache=True, nogil=True)
def _backtrack(acc: np.ndarray, end_column: int, free_start: bool) -> np.ndarray:  # pragma: no cover
    i, j = acc.shape[0] - 1, end_column
    path = np.empty((acc.shape[0] + end_column + 1, 2), dtype=np.int64)
    k = 0
    path[k, 0], path[k, 1] = i, j
    while i > 0 or (j > 0 and not free_start):
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            diagonal, up, left = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
            if diagonal <= up and diagonal <= left:
                i, j = i - 1, j - 1
            elif up <= left:
                i -= 1
            else:
                j -= 1
        k += 1
        path[k, 0], path[k, 1] = i, j
    return path[: k + 1][::-1].copy()


def dtw(cost: np.ndarray) -> DtwResult:
    """Exact DTW over a cost matrix.

    cost: shape (n, m), non-negative, finite. The path runs from (0, 0) to (n-1, m-1).
    Returns the optimal path, shape (path_length, 2), and its total cost.
    """
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    if cost.ndim != 2 or 0 in cost.shape:
        raise ValueError(f"the cost matrix must be 2-d and non-empty, got shape {cost.shape}")
    acc = _accumulate(cost, False)
    return DtwResult(float(acc[-1, -1]), _backtrack(acc, cost.shape[1] - 1, False))


def subsequence_dtw(cost: np.ndarray) -> DtwResult:
    """Best match of the whole of x (rows) anywhere inside y (columns).

    cost: shape (n, m), a short query x (n frames) against a longer y (m frames).
    The path starts in row 0 at any column and ends in row n-1 at the cheapest column.
    """
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    if cost.ndim != 2 or 0 in cost.shape:
        raise ValueError(f"the cost matrix must be 2-d and non-empty, got shape {cost.shape}")
    acc = _accumulate(cost, True)
    end = int(np.argmin(acc[-1]))
    return DtwResult(float(acc[-1, end]), _backtrack(acc, end, True))


def dtw_fast(x: np.ndarray, y: np.ndarray, radius: int = 1) -> DtwResult:
    """Approximate DTW with fastdtw (Salvador & Chan 2007), Euclidean frame distance.

    x: shape (n, d); y: shape (m, d). Linear time and memory: for inputs too long for the exact
    O(n m) matrix (tens of thousands of frames). `radius` widens the search around the coarse path.
    """
    from fastdtw import fastdtw

    cost, path = fastdtw(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), radius=radius, dist=2)
    return DtwResult(float(cost), np.asarray(path, dtype=np.int64))


def path_costs(cost: np.ndarray, path: np.ndarray, axis: int = 1) -> np.ndarray:
    """Mean cost per frame of one sequence along a path.

    cost: shape (n, m); path: shape (k, 2). axis=1 gives one value per column (frame of y),
    axis=0 one per row (frame of x): the mean of the path cells that touch it. Shape (m,) or (n,).
    """
    frames = path[:, axis]
    size = cost.shape[axis]
    values = cost[path[:, 0], path[:, 1]]
    total = np.bincount(frames, weights=values, minlength=size)
    count = np.bincount(frames, minlength=size)
    return total / np.maximum(count, 1)
