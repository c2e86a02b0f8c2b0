"""Activation patterns D_i = diag(1[X g >= 0]) of a data matrix X (n x d).

Masks are boolean arrays of shape (n, P): column i is the diagonal of D_i.

* :func:`sample_patterns` draws g ~ N(0, I_d) from a seeded ``numpy.random.Generator`` until P distinct,
  non-zero patterns are found (duplicates and the all-zero pattern are removed; P counts distinct patterns).
* :func:`enumerate_patterns` lists every pattern of the hyperplane arrangement {x_j^T g = 0} exactly. Every
  cell of a central arrangement of rank r >= 2 has an extreme ray on its boundary, where r - 1 independent
  hyperplanes meet; the cells touching a ray differ only in the signs of the rows that vanish on it. Rays are
  found for all (r-1)-subsets of rows at once (batched SVD); rays on which more rows vanish than in general
  position are resolved exactly by recursing on the sub-arrangement of those rows.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from relubench.errors import InputError

DEFAULT_MAX_PATTERNS = 100_000


def _dedupe_index(masks: np.ndarray) -> np.ndarray:
    """Indices of the distinct, non-zero columns of a boolean (n, k) array, in order of first appearance."""
    if masks.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    packed = np.packbits(masks, axis=0)
    _, first = np.unique(packed, axis=1, return_index=True)
    keep = np.sort(first)
    return keep[masks[:, keep].any(axis=0)]


def _dedupe(masks: np.ndarray) -> np.ndarray:
    """Distinct, non-zero columns of a boolean (n, k) array, in order of first appearance."""
    return masks[:, _dedupe_index(masks)]


def sample_patterns(X: np.ndarray, P: int, seed: int = 0, max_draws: int | None = None) -> np.ndarray:
    """Sample P distinct, non-zero activation patterns of X from Gaussian directions.

    Directions are drawn in batches from ``numpy.random.default_rng(seed)``; if fewer than P distinct patterns
    exist (or appear within ``max_draws`` draws, default 50 P), all that were found are returned.
    """
    return sample_patterns_with_gates(X, P, seed, max_draws)[0]


def sample_patterns_with_gates(
    X: np.ndarray, P: int, seed: int = 0, max_draws: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sample_patterns` and the Gaussian direction g_i (d x P) that drew each pattern: the gates a gated
    network applies to new rows (1[x^T g_i >= 0])."""
    X = np.asarray(X, dtype=float)
    if P < 1:
        raise InputError(f"number of patterns must be >= 1, got {P}")
    n, d = X.shape
    rng = np.random.default_rng(seed)
    max_draws = 50 * P if max_draws is None else max_draws
    found = np.zeros((n, 0), dtype=bool)
    gates = np.zeros((d, 0))
    drawn = 0
    while found.shape[1] < P and drawn < max_draws:
        batch = min(max(P, 16), max_draws - drawn)
        G = rng.standard_normal((d, batch))
        drawn += batch
        both = np.concatenate([found, X @ G >= 0], axis=1)
        keep = _dedupe_index(both)
        found, gates = both[:, keep], np.concatenate([gates, G], axis=1)[:, keep]
    return found[:, :P], gates[:, :P]


def pattern_count_bound(n: int, rank: int) -> int:
    """Upper bound on the number of cells of a central arrangement of n hyperplanes in rank `rank`."""
    if rank <= 0:
        return 1
    return 2 * sum(math.comb(n - 1, k) for k in range(rank))


def _cell_signs(Xr: np.ndarray) -> np.ndarray:
    """Sign vectors (+1/-1, shape (k, n)) of all open cells of the arrangement of rows of Xr (full column rank)."""
    n, r = Xr.shape
    if r == 1:
        x = Xr[:, 0]
        s = np.where(x > 0, 1, -1)
        return np.stack([s, -s])
    combos = np.array(list(itertools.combinations(range(n), r - 1)), dtype=np.intp)
    sub = Xr[combos]  # (C, r-1, r)
    _, sv, vt = np.linalg.svd(sub)
    rays = vt[:, -1, :]  # null vector of each subset
    scale = np.abs(Xr).max() * max(n, r) * np.finfo(float).eps * 1e3
    independent = sv[:, -1] > scale
    rays = rays[independent]
    combos = combos[independent]
    vals = rays @ Xr.T  # (C, n)
    zero = np.abs(vals) <= scale * np.linalg.norm(Xr, axis=1)[None, :].clip(min=1.0)
    nzero = zero.sum(axis=1)
    base = np.where(vals > 0, 1, -1).astype(np.int8)
    generic = nzero == r - 1
    out = []
    if generic.any():
        b = base[generic]
        idx = combos[generic]
        flips = np.array(list(itertools.product([1, -1], repeat=r - 1)), dtype=np.int8)  # (2^(r-1), r-1)
        for sign in (1, -1):  # the ray and its opposite
            cells = np.repeat((sign * b)[:, None, :], len(flips), axis=1)  # (C, F, n)
            rows = np.broadcast_to(idx[:, None, :], (len(idx), len(flips), r - 1))
            cells[np.arange(len(idx))[:, None, None], np.arange(len(flips))[None, :, None], rows] = flips[None]
            out.append(cells.reshape(-1, n))
    for c in np.flatnonzero(~generic):
        K = np.flatnonzero(zero[c])
        sub_signs = _signs_of_subarrangement(Xr[K])
        for sign in (1, -1):
            cells = np.repeat((sign * base[c])[None, :], len(sub_signs), axis=0)
            cells[:, K] = sub_signs
            out.append(cells)
    signs = np.concatenate(out, axis=0)
    return np.unique(signs, axis=0)


def _signs_of_subarrangement(XK: np.ndarray) -> np.ndarray:
    """Sign vectors of all open cells for rows XK in any dimension (reduced to its row space first)."""
    u, s, vt = np.linalg.svd(XK, full_matrices=False)
    tol = s.max(initial=0.0) * max(XK.shape) * np.finfo(float).eps * 1e3
    rank = int((s > tol).sum())
    if rank == 0:
        return np.ones((1, XK.shape[0]), dtype=np.int8)
    return _cell_signs(XK @ vt[:rank].T)


def enumerate_patterns(X: np.ndarray, max_patterns: int = DEFAULT_MAX_PATTERNS) -> np.ndarray:
    """Every distinct, non-zero activation pattern 1[X g >= 0] of X, as a boolean (n, P) array.

    Exact (up to floating-point tests of which rows vanish on a ray). Zero rows of X are active in every
    pattern (0 >= 0). Refuses with :class:`InputError` when the arrangement could have more than
    ``max_patterns`` cells or the enumeration would visit more than 20 ``max_patterns`` rays.
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    nonzero = np.linalg.norm(X, axis=1) > 0
    Xn = X[nonzero]
    if Xn.shape[0] == 0:
        return np.ones((n, 1), dtype=bool)
    s = np.linalg.svd(Xn, compute_uv=False)
    rank = int((s > s.max() * max(Xn.shape) * np.finfo(float).eps * 1e3).sum())
    bound = pattern_count_bound(Xn.shape[0], rank)
    rays = math.comb(Xn.shape[0], max(rank - 1, 0))
    if bound > max_patterns or rays > 20 * max_patterns:
        raise InputError(
            f"enumerating all patterns of a {n} x {d} matrix (rank {rank}) could give up to {bound} patterns, "
            f"over the limit of {max_patterns}; sample patterns instead (--patterns P)"
        )
    signs = _signs_of_subarrangement(Xn)
    masks = np.ones((n, signs.shape[0]), dtype=bool)
    masks[nonzero] = (signs > 0).T
    return _dedupe(masks)


def cone_generators(X: np.ndarray, masks: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
    """For each pattern a direction g_i (d x P) deep inside its cone {g: (2 D_i - I) X g >= 0}: the LP
    max t s.t. (2 D_i - I)_jj x_j^T g / ||x_j|| >= t on the nonzero rows, |g| <= 1, 0 <= t <= 1 (HiGHS).

    Certificates repair an infeasible point along these directions (:func:`relubench.problem.formulations.
    feasible_objective`), at a cost inverse to their depth: a Gaussian gate that drew a pattern is in its cone but
    typically 10-20x shallower than the LP's direction. With ``gates`` the LP starts from the 20 d rows nearest
    each gate's boundary and adds the rows its solution violates (at most 6 rounds; the gate is kept if that
    fails), so its cost does not grow with n (a few ms per pattern); without, it takes every row. One LP per
    pattern, once per problem, at setup (a loop over patterns outside any iteration). A pattern whose cone has
    no interior (masks that no direction realizes) gets the LP's point (possibly 0): callers check each row.
    """
    from scipy.optimize import linprog

    d = X.shape[1]
    norms = np.linalg.norm(X, axis=1)
    rows = np.flatnonzero(norms > 0)  # a zero row is never violated: left out
    Xn = X[rows] / norms[rows, None]
    signs = 2.0 * masks[rows].astype(float) - 1.0
    out = np.zeros((d, masks.shape[1])) if gates is None else np.array(gates, dtype=float)
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    bounds = [(-1.0, 1.0)] * d + [(0.0, 1.0)]
    for i in range(masks.shape[1]):
        s = signs[:, i]
        if gates is None:
            cand = np.arange(rows.size)
        else:
            cand = np.argsort(s * (Xn @ gates[:, i]))[: 20 * d]
        for _ in range(6):
            A = np.hstack([-(s[cand, None] * Xn[cand]), np.ones((cand.size, 1))])
            res = linprog(cost, A_ub=A, b_ub=np.zeros(cand.size), bounds=bounds, method="highs")
            if res.status != 0 or res.x is None:
                break
            g = res.x[:d]
            margin = s * (Xn @ g)
            short = np.flatnonzero(margin < 0.5 * res.x[-1])
            if short.size == 0:
                if gates is None or res.x[-1] > 0:
                    out[:, i] = g
                break
            cand = np.union1d(cand, short[np.argsort(margin[short])[: 20 * d]])
    return out
