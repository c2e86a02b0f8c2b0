"""Adversarial attacks on two-layer ReLU networks f(x) = sum_j a_j relu(u_j^T x), vectorized over points.

Conventions (README, "Robustness"):

* Networks are (U (d x m), a (m,)); with a bias column (the last one of X) it is never perturbed: gradients and
  perturbations are restricted to the ``perturbable`` columns.
* **One-step attack** (Bubeck, Cherapanamjeri, Gidel & Tachet des Combes 2021; Bartlett, Bubeck &
  Cherapanamjeri 2021): from x, move along the normalized input gradient g = grad f(x) / ||grad f(x)|| toward the
  other sign, x - s t g with s = the label (+-1) or, without labels, sign f(x). The size reported per point is the
  smallest t at which sign f changes (a geometric scan over [1e-4, 1e4] r locates the first change, bisection
  refines it to 1e-6 relative), divided by r = ||x|| / sqrt(d) (both over the perturbable columns). Theory predicts
  sizes of order 1 for random networks. Points already misclassified have size 0; inf means no change within 1e4 r.
* **Projected gradient attack** (PGD; Madry et al. 2018), the stronger yardstick: ``steps`` ascent steps on the
  per-point loss from random starts in the ball (l_inf: signed gradient steps of 2.5 eps / steps, projection by
  clipping; l_2: normalized steps, projection by scaling), the worst of ``restarts`` runs per point. For the
  hinge loss (and robust accuracy) the ascent is on the negative margin -y f, for the squared loss on |f - y|.
"""

from __future__ import annotations

import numpy as np

from relubench.errors import InputError
from relubench.problem.losses import get_loss


def network_output(X: np.ndarray, U: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.maximum(X @ U, 0.0) @ a


def input_gradients(X: np.ndarray, U: np.ndarray, a: np.ndarray) -> np.ndarray:
    """grad_x f(x) per row of X (n x d): sum over active neurons of a_j u_j."""
    return ((X @ U) > 0).astype(float) * a @ U.T


def random_network(d: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian weights: u_j ~ N(0, I_d / d), a_j ~ N(0, 1 / m) (the setting of Bubeck et al.)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, m)) / np.sqrt(d), rng.standard_normal(m) / np.sqrt(m)


def _mask(d: int, perturbable: np.ndarray | None) -> np.ndarray:
    return np.ones(d) if perturbable is None else np.asarray(perturbable, dtype=float)


def one_step_sizes(
    X: np.ndarray,
    U: np.ndarray,
    a: np.ndarray,
    labels: np.ndarray | None = None,
    perturbable: np.ndarray | None = None,
    scan: int = 96,
    bisections: int = 40,
) -> np.ndarray:
    """Per point: the smallest step along the one-step direction that changes sign f, over ||x|| / sqrt(d)."""
    X = np.asarray(X, dtype=float)
    pm = _mask(X.shape[1], perturbable)
    f0 = network_output(X, U, a)
    s = np.sign(f0) if labels is None else np.asarray(labels, dtype=float)
    s = np.where(s == 0, 1.0, s)
    g = input_gradients(X, U, a) * pm
    gn = np.linalg.norm(g, axis=1)
    r = np.linalg.norm(X * pm, axis=1) / np.sqrt(max(pm.sum(), 1.0))
    out = np.full(X.shape[0], np.inf)
    already = s * f0 <= 0  # misclassified (or on the boundary): no step needed
    out[already] = 0.0
    live = ~already & (gn > 0) & (r > 0)
    if not live.any():
        return out
    Xl, sl, rl = X[live], s[live], r[live]
    direction = -sl[:, None] * g[live] / gn[live][:, None]  # toward the other sign

    def flipped(t: np.ndarray) -> np.ndarray:  # t: (k, q) steps in units of r -> (k, q) sign changed
        pts = Xl[:, None, :] + (t * rl[:, None])[:, :, None] * direction[:, None, :]
        vals = np.maximum(pts @ U, 0.0) @ a
        return sl[:, None] * vals <= 0

    grid = np.geomspace(1e-4, 1e4, scan)
    chunk = 8  # grid points per evaluation: memory k x 8 x d, not k x scan x d
    hits = np.concatenate(
        [flipped(np.tile(grid[i : i + chunk], (Xl.shape[0], 1))) for i in range(0, scan, chunk)], axis=1
    )
    found = hits.any(axis=1)
    first = np.argmax(hits, axis=1)
    lo = np.where(first > 0, grid[np.maximum(first - 1, 0)], 0.0)
    hi = grid[first]
    for _ in range(bisections):  # the sign changes in (lo, hi]: keep the first change
        mid = 0.5 * (lo + hi)
        f = flipped(mid[:, None])[:, 0]
        hi = np.where(f, mid, hi)
        lo = np.where(f, lo, mid)
    sizes = np.where(found, hi, np.inf)
    out[np.flatnonzero(live)] = sizes
    return out


def pgd_attack(
    X: np.ndarray,
    y: np.ndarray,
    U: np.ndarray,
    a: np.ndarray,
    epsilon: float,
    loss: str = "hinge",
    norm: str = "linf",
    steps: int = 50,
    restarts: int = 3,
    perturbable: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(worst per-point loss found, the perturbed points) within the ``norm`` ball of radius ``epsilon``."""
    if norm not in ("linf", "l2"):
        raise InputError(f"norm must be 'linf' or 'l2', got {norm!r}")
    if not (np.isfinite(epsilon) and epsilon >= 0):
        raise InputError(f"epsilon must be a finite number >= 0, got {epsilon!r}")
    lf = get_loss(loss)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    pm = _mask(X.shape[1], perturbable)
    best_loss = lf.pointwise(network_output(X, U, a), y)
    best_X = X.copy()
    if epsilon == 0:
        return best_loss, best_X
    rng = np.random.default_rng(seed)
    step = 2.5 * epsilon / max(steps, 1)

    def project(delta: np.ndarray) -> np.ndarray:
        delta = delta * pm
        if norm == "linf":
            return np.clip(delta, -epsilon, epsilon)
        nrm = np.linalg.norm(delta, axis=1, keepdims=True)
        return delta * np.minimum(1.0, epsilon / np.maximum(nrm, 1e-300))

    for _ in range(restarts):
        if norm == "linf":
            delta = project(rng.uniform(-epsilon, epsilon, X.shape))
        else:
            z = rng.standard_normal(X.shape) * pm
            z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-300)
            delta = project(z * epsilon * rng.uniform(0, 1, (X.shape[0], 1)))
        for _ in range(steps):
            Xp = X + delta
            f = network_output(Xp, U, a)
            c = lf.ascent(f, y)  # hinge: down the margin -y f; squared: away from the target
            grad = c[:, None] * input_gradients(Xp, U, a) * pm
            if norm == "linf":
                delta = project(delta + step * np.sign(grad))
            else:
                gn = np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-300)
                delta = project(delta + step * grad / gn)
            cur = lf.pointwise(network_output(X + delta, U, a), y)
            better = cur > best_loss
            best_loss = np.where(better, cur, best_loss)
            best_X[better] = (X + delta)[better]
    return best_loss, best_X


def accuracy(X: np.ndarray, y: np.ndarray, U: np.ndarray, a: np.ndarray) -> float:
    """Fraction of points whose label (+-1) the sign of the output matches (an output of 0 counts as +1)."""
    return float(np.mean(np.where(network_output(X, U, a) >= 0, 1.0, -1.0) == y))


def robust_accuracy(X: np.ndarray, y: np.ndarray, U: np.ndarray, a: np.ndarray, epsilon: float, **pgd: object) -> float:
    """Fraction of points whose label sign survives the PGD attack on the margin (hinge ascent)."""
    _, Xadv = pgd_attack(X, y, U, a, epsilon, loss="hinge", **pgd)  # type: ignore[arg-type]
    return accuracy(Xadv, y, U, a)
