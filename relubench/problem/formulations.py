"""Formulations: objectives, constraint violation, weight layout and the exact convex-to-network mapping.

Each formulation is one :class:`Formulation` object in :data:`FORMULATIONS`, looked up by the name a
:class:`relubench.problem.spec.ProblemClass` carries. Weights (arrays, d = problem.d including a bias column):

* ``relu``: ``{"V": (d, P), "W": (d, P)}`` -- column i is v_i (resp. w_i) of pattern i; cone constraints
  ``(2 D_i - I) X v_i >= 0`` (and for w_i).
* ``gated``: ``{"U": (d, P)}`` -- the same without constraints (group lasso).
* ``nonconvex``: ``{"U": (d, m), "a": (m,)}`` -- hidden weights and output weights of width m.

Several outputs (y of shape n x c): every block has c P columns, column ``k P + i`` the group of output k and
pattern i, and output k's prediction is ``sum_i D_i X z_{k,i}``. The penalty stays the sum of the column norms:
each (pattern, output, sign) group is one neuron that feeds output k alone (``a = +-sqrt(||z||) e_k``), so the
network mapping is exact and, with all patterns, the program is the global optimum of the two-layer network
whose hidden units each feed one output (the convention of the scnn library for c outputs). A Frobenius norm
over the d x c block of a pattern would be smaller than the network's weight decay whenever that block has rank
above one, and its mapping would not be exact: relubench does not use it.

A convex formulation is a list of *blocks* (weight key, output sign): relu has ("V", +1) and ("W", -1), gated
("U", +1). Its prediction is ``sum_blocks sign * sum_i D_i X z_i`` and its penalty ``beta sum ||z_i||``.
All predictions use masks, never the n x (P d) matrix of all D_i X:
``sum_i D_i X u_i = (mask * (X @ U)).sum(axis=1)``.

Also the pieces the first-order backends share: the group prox (``group_soft_threshold``) and certified duality
gaps (``dual_gap_gated``, ``dual_gap_relu``; the dual points are derived in ``relubench.solvers.proxgrad``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from relubench.errors import InputError
from relubench.problem.arrays import namespace
from relubench.problem.instance import ArrayView, Problem
from relubench.problem.losses import get_loss
from relubench.problem.spec import FORMULATION_NAMES, ProblemClass


def predict_groups(problem: Problem | ArrayView, H: np.ndarray) -> np.ndarray:
    """The prediction from H = X @ Z (n x cP): (n,) for one output, (n, c) for c outputs (any array library)."""
    xp = namespace(H)
    if problem.outputs == 1:
        return xp.vecdot(problem.mask_float, H, axis=-1)
    return xp.sum(xp.reshape(problem.group_masks * H, (problem.n, problem.outputs, problem.P)), axis=2)


def adjoint_groups(problem: Problem | ArrayView, g: np.ndarray) -> np.ndarray:
    """The n x cP array whose X^T-product is the gradient in Z of <g, prediction>: D_i g_k in column k P + i."""
    if problem.outputs == 1:
        return problem.mask_float * g[:, None]
    return problem.group_masks * namespace(g).repeat(g, problem.P, axis=1)


def masked_predict(problem: Problem, U: np.ndarray) -> np.ndarray:
    """sum_i D_i X u_i for U of shape (d, P) (c outputs: U of shape (d, cP), prediction n x c)."""
    return predict_groups(problem, problem.X @ U)


def group_norms(U: np.ndarray) -> np.ndarray:
    """Euclidean norm of each column (any array library; on numpy one einsum pass, without the U * U temporary
    and the strided column sums: 11 against 23 us on a 20 x 400 array, a prox of every ADMM and FISTA iteration)."""
    xp = namespace(U)
    if xp is np:
        return np.sqrt(np.einsum("ij,ij->j", U, U))
    return xp.sqrt(xp.sum(U * U, axis=0))


def cone_violation(problem: Problem, Z: np.ndarray) -> float:
    """max over i, j of the violation of (2 D_i - I) X z_i >= 0 for Z (d x P); 0 when feasible."""
    return max(0.0, -float((problem.group_signs * (problem.X @ Z)).min(initial=0.0)))


def relu_violation(problem: Problem, V: np.ndarray, W: np.ndarray) -> float:
    """max over i, j of the violation of (2 D_i - I) X v_i >= 0 (and for w_i); 0 when feasible."""
    return RELU.violation(problem, {"V": V, "W": W})


def network_predict(X: np.ndarray, U: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.maximum(X @ U, 0.0) @ a


def gated_predict(X: np.ndarray, gates: np.ndarray, U: np.ndarray, outputs: int = 1) -> np.ndarray:
    """The gated network on rows X: sum_i 1[x^T g_i >= 0] x^T u_i (per output; U of shape (d, c P))."""
    M = (X @ gates >= 0).astype(float)  # (rows, P)
    H = X @ U
    if outputs == 1:
        return np.einsum("ij,ij->i", M, H)
    return (np.tile(M, (1, outputs)) * H).reshape(X.shape[0], outputs, gates.shape[1]).sum(axis=2)


def nonconvex_objective(problem: Problem, U: np.ndarray, a: np.ndarray) -> float:
    loss = get_loss(problem.loss).value(network_predict(problem.X, U, a), problem.y)
    return float(loss + 0.5 * problem.beta * (np.sum(U * U) + np.sum(a * a)))


def network_from_blocks(blocks: list[tuple[np.ndarray, float]], outputs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The two-layer network of convex blocks (Z, sign): u = z/sqrt(||z||), a = sign sqrt(||z||) per group.

    Zero groups give no neuron. Returns (U of shape (d, m), a of shape (m,)); with c = ``outputs`` > 1 the
    blocks have c P columns (output k in columns k P .. k P + P - 1) and a has shape (m, c), row j equal to
    sign sqrt(||z_j||) times the unit vector of its output.
    """
    Us, As = [], []
    for B, s in blocks:
        norms = group_norms(B)
        keep = norms > 0
        root = np.sqrt(norms[keep])
        Us.append(B[:, keep] / root)
        if outputs == 1:
            As.append(s * root)
        else:
            out = (np.arange(B.shape[1]) // (B.shape[1] // outputs))[keep]
            A = np.zeros((root.size, outputs))
            A[np.arange(root.size), out] = s * root
            As.append(A)
    return np.concatenate(Us, axis=1), np.concatenate(As)


def active_neurons(a: np.ndarray, rel: float = 1e-6) -> int:
    """Neurons whose output weight squared (= group norm) exceeds ``rel`` times the largest one."""
    a = np.asarray(a)
    w = np.abs(a) ** 2 if a.ndim == 1 else np.sum(a * a, axis=1)
    return int(np.count_nonzero(w > rel * w.max(initial=0.0))) if w.size else 0


@dataclass(frozen=True)
class Formulation:
    """What one formulation is: its weights, objective, violation and network. Subclasses fill the methods."""

    name: str
    description: str
    convex: bool
    constrained: bool  # cone constraints (2 D_i - I) X z_i >= 0 on every block
    blocks: tuple[tuple[str, float], ...]  # convex: (weight key, output sign) per block of P groups
    reference: str  # the formulation whose optimum is this one's reference (nonconvex: relu, the global optimum)

    def objective(self, problem: Problem, weights: dict[str, np.ndarray]) -> float:
        pred = masked_predict(problem, sum(s * weights[k] for k, s in self.blocks))  # the blocks share masks
        pen = sum(float(group_norms(weights[k]).sum()) for k, _ in self.blocks)
        return float(get_loss(problem.loss).value(pred, problem.y) + problem.beta * pen)

    def violation(self, problem: Problem, weights: dict[str, np.ndarray]) -> float:
        if not self.constrained:
            return 0.0
        return max(cone_violation(problem, weights[k]) for k, _ in self.blocks)

    def network(self, weights: dict[str, np.ndarray], outputs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(U (d x m), a (m,) or (m, c)) of the two-layer network of these weights (:func:`network_from_blocks`)."""
        return network_from_blocks([(weights[k], s) for k, s in self.blocks], outputs)

    def predictor(self, problem: Problem, weights: dict[str, np.ndarray]) -> Callable[[np.ndarray], np.ndarray] | None:
        """The trained model as a function of new rows (bias column included): the mapped ReLU network (the
        network itself for nonconvex); the gated formulation overrides it."""
        U, a = self.network(weights, problem.outputs)
        return lambda X: network_predict(X, U, a)

    def split(self, Z: np.ndarray) -> dict[str, np.ndarray]:
        """Weights from the blocks stacked side by side (d x kP, block order as in ``blocks``)."""
        return dict(
            zip((k for k, _ in self.blocks), np.hsplit(np.asarray(Z, dtype=float), len(self.blocks)), strict=True)
        )

    @property
    def output_signs(self) -> np.ndarray:
        return np.array([s for _, s in self.blocks], dtype=float)


@dataclass(frozen=True)
class GatedFormulation(Formulation):
    """The gated-ReLU relaxation: its model on new rows is the gated network (gates 1[x^T g_i >= 0])."""

    def predictor(self, problem: Problem, weights: dict[str, np.ndarray]) -> Callable[[np.ndarray], np.ndarray] | None:
        """The gated network; None without gate vectors (enumerated or given patterns have no directions)."""
        if problem.gates is None:
            return None
        gates, U, c = problem.gates, weights["U"], problem.outputs
        return lambda X: gated_predict(X, gates, U, c)


@dataclass(frozen=True)
class NonconvexFormulation(Formulation):
    """The network itself: weights U (d x m) and a (m,)."""

    def objective(self, problem: Problem, weights: dict[str, np.ndarray]) -> float:
        return nonconvex_objective(problem, weights["U"], weights["a"])

    def violation(self, problem: Problem, weights: dict[str, np.ndarray]) -> float:
        return 0.0

    def network(self, weights: dict[str, np.ndarray], outputs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        return weights["U"], weights["a"]

    def split(self, Z: np.ndarray) -> dict[str, np.ndarray]:
        raise InputError("the nonconvex formulation has no stacked convex blocks")


@dataclass(frozen=True)
class RobustFormulation(Formulation):
    """Convex adversarial training (Bai, Gautam & Sojoudi 2023) for l_inf perturbations of radius eps.

    Derivation. Keep the activation patterns fixed for every perturbed input: the cone constraints must hold on
    the whole ball, min over ||delta||_inf <= eps of (2 D_i - I)_kk (x_k + delta)^T v_i >= 0, i.e.

        (2 D_i - I) X v_i >= eps ||v_i||_1        (elementwise; likewise for w_i).

    Then the mapped network is *linear* on each ball: f(x_k + delta) = f(x_k) + delta^T g_k with
    g_k = sum_i d_ik (v_i - w_i), and the worst case over the ball has a closed form:

        squared: max (f(x_k + delta) - y_k)^2 = (|f(x_k) - y_k| + eps ||g_k||_1)^2
        hinge:   max (1 - y_k f(x_k + delta))_+ = (1 - y_k f(x_k) + eps ||g_k||_1)_+

    The robust program minimizes the sum of these worst-case losses (1/2 for squared) plus beta sum (||v_i|| +
    ||w_i||). It is convex (second-order cone representable), equals the relu program at eps = 0, and its
    objective is an upper bound on the worst-case training loss of the mapped network plus its weight decay: no
    attack inside the ball can do better than the certificate. The bias column is never perturbed (its weights
    are left out of the l1 norms). Solved through cvxpy (Clarabel).
    """

    def objective(self, problem: Problem, weights: dict[str, np.ndarray]) -> float:
        loss = robust_losses(problem, weights["V"] - weights["W"]).sum()
        pen = sum(float(group_norms(weights[k]).sum()) for k, _ in self.blocks)
        return float(loss + problem.beta * pen)

    def violation(self, problem: Problem, weights: dict[str, np.ndarray]) -> float:
        worst = 0.0
        for k, _ in self.blocks:
            Z = weights[k]
            margin = problem.signs * (problem.X @ Z) - problem.epsilon * (problem.perturbable @ np.abs(Z))[None, :]
            worst = min(worst, float(margin.min(initial=0.0)))
        return -worst


def robust_losses(problem: Problem, Zdiff: np.ndarray) -> np.ndarray:
    """Per-point worst-case loss over the l_inf ball of radius problem.epsilon, patterns held fixed (see above)."""
    pred = masked_predict(problem, Zdiff)
    G = problem.mask_float @ Zdiff.T  # g_k = sum_i d_ik (v_i - w_i), n x d
    shift = problem.epsilon * (np.abs(G) @ problem.perturbable)  # max |delta^T g_k| over the l_inf ball
    return get_loss(problem.loss).worst_case(pred, problem.y, shift)


RELU = Formulation(
    "relu",
    "constrained convex program (exact with all patterns)",
    convex=True,
    constrained=True,
    blocks=(("V", 1.0), ("W", -1.0)),
    reference="relu",
)
GATED = GatedFormulation(
    "gated",
    "gated-ReLU relaxation (group lasso)",
    convex=True,
    constrained=False,
    blocks=(("U", 1.0),),
    reference="gated",
)
NONCONVEX = NonconvexFormulation(
    "nonconvex", "the two-layer network itself (gap against the relu optimum)", False, False, (), reference="relu"
)
ROBUST = RobustFormulation(
    "robust",
    "convex adversarial training for l_inf perturbations of radius epsilon (Bai et al. 2023)",
    convex=True,
    constrained=True,
    blocks=(("V", 1.0), ("W", -1.0)),
    reference="robust",
)
FORMULATIONS: dict[str, Formulation] = {f.name: f for f in (RELU, GATED, NONCONVEX, ROBUST)}  # keys: FORMULATION_NAMES


def get_formulation(which: str | ProblemClass) -> Formulation:
    """The formulation object of a name or a problem class (InputError for an unknown name)."""
    name = which.formulation if isinstance(which, ProblemClass) else which
    if name not in FORMULATIONS:
        raise InputError(f"unknown formulation {name!r}; choose one of {', '.join(FORMULATION_NAMES)}")
    return FORMULATIONS[name]


def evaluate(problem: Problem, formulation: str | ProblemClass, weights: dict[str, np.ndarray]) -> dict[str, float]:
    """objective, network_objective, max_violation and active neuron count (:func:`active_neurons`).

    ``network_objective`` is the non-convex objective of the network built by the formulation's mapping
    (for ``gated`` the same mapping of u_i, used as a ReLU network; it differs from the gated objective).
    For a feasible ``relu`` solution it equals the convex one.
    """
    form = get_formulation(formulation)
    U, a = form.network(weights, problem.outputs)
    return {
        "objective": form.objective(problem, weights),
        "network_objective": nonconvex_objective(problem, U, a),
        "max_violation": form.violation(problem, weights),
        "active_neurons": active_neurons(a),
    }


def prune_neurons(problem: Problem, V: np.ndarray, W: np.ndarray, rel: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """An equally good relu solution with at most n c + 1 nonzero groups (Pilanci & Ergen 2020, Thm. 1 proof).

    Groups whose squared norm is at most ``rel`` times the largest (those :func:`active_neurons` does not count)
    are zeroed first; an interior-point solution has many such tiny groups, and the data decide how many
    of the rest carry the solution.
    Each nonzero group j contributes c_j = +-D_j X v_j to the prediction and l_j = ||v_j|| to the penalty.
    While more than n + 1 groups are nonzero, the vectors (c_j, l_j) in R^{n+1} are linearly dependent: a null
    vector t gives scalings v_j <- (1 + s t_j) v_j that change neither the prediction nor the penalty (and keep
    every cone constraint, the factors being >= 0); s is chosen so that one factor reaches 0. The objective
    is unchanged up to rounding, so the count returned is an upper bound on the fewest neurons at this value.
    """
    n, P = problem.n * problem.outputs, problem.groups  # prediction entries; groups per block
    G = np.hstack([V, W]).astype(float, copy=True)  # d x 2P
    sign = np.concatenate([np.ones(P), -np.ones(P)])
    pat = np.concatenate([np.arange(P), np.arange(P)])
    norms = group_norms(G)
    G[:, norms**2 <= rel * (norms**2).max(initial=0.0)] = 0.0
    live = np.flatnonzero(group_norms(G) > 0)
    if live.size > n + 1:
        XG = problem.X @ G[:, live]
        C = problem.group_masks[:, pat[live]] * XG * sign[live]  # n x k contributions to their own output
        if problem.outputs > 1:  # place each in the rows of its output: (n c) x k
            out = pat[live] // problem.P
            C = (C[:, None, :] * (np.arange(problem.outputs)[:, None] == out[None, :])[None, :, :]).reshape(
                n, live.size
            )
        L = group_norms(G[:, live])
        A = np.vstack([C / max(np.abs(C).max(), 1e-300), L / max(L.max(), 1e-300)])  # rows scaled alike
        factor = np.ones(live.size)
        keep = np.ones(live.size, dtype=bool)
        while keep.sum() > n + 1:
            idx = np.flatnonzero(keep)
            sub = A[:, idx] * factor[idx]
            t = np.linalg.svd(sub, full_matrices=True)[2][-1]  # a null vector (k > n + 1 columns)
            if t.min() >= 0:
                t = -t
            s = 1.0 / (-t.min())
            f = 1.0 + s * t
            f[np.argmin(t)] = 0.0
            factor[idx] *= np.maximum(f, 0.0)
            keep[idx[f <= 0]] = False
        G[:, live] *= factor
        G[:, live[~keep]] = 0.0
    return G[:, :P], G[:, P:]


# ---- proximal operator and certified duality gaps (shared by the first-order backends)


def group_soft_threshold(A: np.ndarray, thresh: float) -> np.ndarray:
    """Column-wise prox of thresh * ||.||_2: scales each column a to max(0, 1 - thresh/||a||) a."""
    xp = namespace(A)
    scale = xp.clip(1.0 - thresh / xp.clip(group_norms(A), min=1e-300), min=0.0)
    return A * scale


def group_norm_sum(Z: np.ndarray) -> float:
    return float(namespace(Z).sum(group_norms(Z)))


def _dual_value(problem: Problem | ArrayView, pred: np.ndarray, G: np.ndarray) -> float:
    """The dual objective at theta = c * gradient(pred), c <= 1 scaling the group norms of G = X^T (..) (linear in
    the gradient) to at most beta: the loss's ``dual_value`` (minus its conjugate at theta), a lower bound on f*."""
    c = min(1.0, problem.beta / max(float(namespace(G).max(group_norms(G))), 1e-300))
    return get_loss(problem.loss).dual_value(pred, problem.y, c)


def dual_gap_gated(problem: Problem | ArrayView, Z: np.ndarray, XZ: np.ndarray) -> tuple[float, float]:
    """(primal objective, certified gap) for the gated problem at Z (a smooth loss; any number of outputs;
    the arrays of a :class:`Problem` or of its :class:`ArrayView` on another library or device)."""
    loss = get_loss(problem.loss)
    pred = predict_groups(problem, XZ)
    primal = loss.value(pred, problem.y) + problem.beta * group_norm_sum(Z)
    G = problem.X.T @ adjoint_groups(problem, loss.gradient(pred, problem.y))
    return float(primal), float(abs(primal - _dual_value(problem, pred, G)))  # every point is feasible


def relu_primal_dual(
    problem: Problem | ArrayView, Z: np.ndarray, XZ: np.ndarray, lam: np.ndarray
) -> tuple[float, float, float]:
    """(primal objective P, dual bound D <= f* from the multipliers lam, max violation) at Z = [V W]. P - D bounds
    P - f* at feasible points only: :func:`dual_gap_relu` turns it into a certificate at any point."""
    xp = namespace(Z, XZ, lam)
    loss = get_loss(problem.loss)
    k = problem.groups
    S = problem.group_signs
    pred = predict_groups(problem, XZ[:, :k] - XZ[:, k:])
    primal = loss.value(pred, problem.y) + problem.beta * group_norm_sum(Z)
    Mr = adjoint_groups(problem, loss.gradient(pred, problem.y))
    A = xp.concat([Mr - S * lam[:, :k], -Mr - S * lam[:, k:]], axis=1)
    G = problem.X.T @ A
    viol = max(0.0, -float(xp.min(xp.concat([S * XZ[:, :k], S * XZ[:, k:]], axis=1))))
    return float(primal), _dual_value(problem, pred, G), viol


def dual_gap_relu(
    problem: Problem | ArrayView,
    Z: np.ndarray,
    XZ: np.ndarray,
    lam: np.ndarray,
    cache: dict[int, np.ndarray] | None = None,
) -> tuple[float, float, float]:
    """(primal objective, certified gap, max violation) for the relu problem at Z = [V W] with multipliers lam.

    The gap bounds |primal - f*| whether or not Z is feasible: f* >= dual (the dual point of the multipliers)
    and, for an infeasible Z, f* <= the objective of the feasible point :func:`feasible_objective` derives
    from it, so |primal - f*| <= max(primal - dual, feasible - primal). (A point below f* with a small
    |primal - dual| is therefore not certified: its distance to the feasible set is paid for.) ``cache``: the
    solve's own cone directions (:meth:`Problem.cone_directions`)."""
    primal, dual, viol = relu_primal_dual(problem, Z, XZ, lam)
    if viol == 0.0:
        return primal, abs(primal - dual), viol
    return primal, max(primal - dual, feasible_objective(problem, Z, XZ, cache=cache) - primal), viol


REPAIR_ROUNDS = 30  # projections onto the most violated row of each group before the generator step


def feasible_objective(
    problem: Problem | ArrayView,
    Z: np.ndarray,
    XZ: np.ndarray,
    rounds: int = REPAIR_ROUNDS,
    cache: dict[int, np.ndarray] | None = None,
) -> float:
    """The relu objective of a feasible point derived from Z = [V W] (any array library). First ``rounds`` rounds
    of projections: every violated group is projected onto the half-space of its most violated row
    (z_i += short_j s_ij x_j / ||x_j||^2; two products with X per round), which moves it little. Then each group
    still outside its cone moves along a direction g_i deep inside it (``Problem.cone_directions``, computed for
    those groups only) by the least t_i >= 0 that
    makes every row's margin (2 D_i - I) X (z_i + t_i g_i) >= 0; a group that some violated row's generator
    cannot repair (margin of g_i <= 0 there) is set to zero. An upper bound on f*: the point is feasible.
    (Generator steps alone cost 10-100x more objective at violations near 1e-3 max|y|: al's certificate at
    tol 1e-3 on a 300 x 8 gaussian instance went from 3.8e-3 to 9.6e-4, its true gap being 6e-4.)"""
    Zf, XZf = feasible_point(problem, Z, XZ, rounds, cache)
    k = problem.groups
    pred = predict_groups(problem, XZf[:, :k] - XZf[:, k:])
    return float(get_loss(problem.loss).value(pred, problem.y) + problem.beta * group_norm_sum(Zf))


def _host(a: np.ndarray) -> np.ndarray:
    """A numpy copy of a small array of any library (torch: through the CPU)."""
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def feasible_point(
    problem: Problem | ArrayView,
    Z: np.ndarray,
    XZ: np.ndarray,
    rounds: int = REPAIR_ROUNDS,
    cache: dict[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(Z', X Z') for the feasible point of :func:`feasible_objective` (any array library)."""
    xp = namespace(Z, XZ)
    k = problem.groups
    S = xp.concat([problem.group_signs, problem.group_signs], axis=1)
    X = problem.X
    row_sq = xp.sum(X * X, axis=1)
    row_sq = xp.where(row_sq > 0, row_sq, xp.ones_like(row_sq))[:, None]
    for _ in range(rounds):
        short = xp.clip(-(S * XZ), min=0.0)
        worst = xp.max(short, axis=0)
        if not bool(xp.any(worst > 0)):
            break
        step = xp.where((short >= worst) & (short > 0), short / row_sq, xp.zeros_like(short))
        Z = Z + X.T @ (S * step)
        XZ = X @ Z
    short = xp.clip(-(S * XZ), min=0.0)  # how far each row is from its cone, n x 2k
    bad = np.flatnonzero(_host(xp.any(short > 0, axis=0)))
    if bad.size == 0:
        return Z, XZ
    # the groups still outside their cones move along a deep direction g_i of the cone: the least t_i >= 0 that
    # makes every margin >= 0; a group whose direction cannot repair some violated row is set to zero
    idx = xp.asarray(bad, device=getattr(Z, "device", None)) if xp is not np else bad
    Gen = problem.cone_directions(bad % k, cache)
    XGen = X @ Gen
    sub = xp.take(short, idx, axis=1)
    reach = xp.take(S, idx, axis=1) * XGen  # what one unit of g_i adds to each row's margin
    ok = reach > 0
    repairable = xp.all(ok | (sub == 0.0), axis=0)
    t = xp.max(xp.where(ok, sub / xp.where(ok, reach, xp.ones_like(reach)), xp.zeros_like(sub)), axis=0)
    t = xp.where(repairable, t * (1.0 + 1e-12), xp.zeros_like(t))
    keep = xp.astype(repairable, Z.dtype)
    fixed_Z = (xp.take(Z, idx, axis=1) + t * Gen) * keep
    fixed_XZ = (xp.take(XZ, idx, axis=1) + t * XGen) * keep
    if xp is np:
        Z, XZ = Z.copy(), XZ.copy()
        Z[:, bad], XZ[:, bad] = fixed_Z, fixed_XZ
        return Z, XZ
    # scatter without item assignment (the array API has none): one-hot columns
    onehot = xp.astype(xp.arange(Z.shape[1])[:, None] == idx[None, :], Z.dtype)  # 2k x |bad|
    sel = xp.sum(onehot, axis=1)
    return Z * (1.0 - sel) + fixed_Z @ onehot.T, XZ * (1.0 - sel) + fixed_XZ @ onehot.T
