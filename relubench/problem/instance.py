"""The training problem: data X (n x d), targets y, weight decay beta and a set of activation patterns.

Objective conventions (unscaled, as Pilanci & Ergen 2020 and Bai et al. 2023)::

    nonconvex:  1/2 ||sum_j relu(X u_j) a_j - y||^2 + beta/2 sum_j (||u_j||^2 + a_j^2)
    relu:       1/2 ||sum_i D_i X (v_i - w_i) - y||^2 + beta sum_i (||v_i|| + ||w_i||),
                s.t. (2 D_i - I) X v_i >= 0 and (2 D_i - I) X w_i >= 0
    gated:      1/2 ||sum_i D_i X u_i - y||^2 + beta sum_i ||u_i||

The peer library scnn scales the loss as 1/(2n) ||r||^2 + lam * penalty; the same minimizers are obtained
with beta = n * lam (see :func:`beta_from_scnn_lambda`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from relubench.errors import InputError
from relubench.problem.arrays import Array
from relubench.problem.losses import LABEL_LOSSES
from relubench.problem.patterns import (
    DEFAULT_MAX_PATTERNS,
    cone_generators,
    enumerate_patterns,
    sample_patterns_with_gates,
)
from relubench.problem.spec import ProblemClass
from relubench.resources import require_memory

# memory per (row, pattern) entry of a problem: the boolean mask and about three n x P float64 arrays that every
# backend forms (float masks, cone signs, X @ U); a request above what the machine has is refused up front
BYTES_PER_MASK_ENTRY = 25


def y_scale(y: np.ndarray) -> float:
    """Scale of the targets used to make constraint violations relative (statuses, the "reached" rule, reports):
    max|y|, floored at 1e-12; with y identically 0 (a legal problem, optimum 0) violations are measured absolutely
    (scale 1), as relative gaps are then (:func:`relubench.running.reference.gap_floor`)."""
    top = float(np.abs(y).max(initial=0.0))
    return max(top, 1e-12) if top > 0 else 1.0


def with_bias_column(X: np.ndarray) -> np.ndarray:
    """X with a column of ones appended (the ``bias`` convention: patterns are drawn after it is added)."""
    return np.hstack([X, np.ones((X.shape[0], 1))])


def perturbable_columns(d: int, bias: bool) -> np.ndarray:
    """1.0 for the columns an adversary may perturb, 0.0 for the bias column (the last one, when ``bias``)."""
    out = np.ones(d)
    if bias:
        out[-1] = 0.0
    return out


def beta_from_scnn_lambda(lam: float, n: int) -> float:
    """Weight decay beta of relubench's unscaled objective for scnn's lambda (loss scaled by 1/n)."""
    return float(lam) * n


def scnn_lambda_from_beta(beta: float, n: int) -> float:
    """scnn's lambda (loss scaled by 1/n) for relubench's beta."""
    return float(beta) / n


def validate_data(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Return X as a finite float (n, d) array and y as a finite float (n,) or (n, c) array, or raise InputError.

    An n x 1 y becomes a vector (one output).
    """
    try:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"data must be numeric: {exc}") from None
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise InputError(f"X must be a 2-D array (n x d), got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2) or y.size == 0:
        raise InputError(f"y must be a vector of length n or an n x c array, got shape {y.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X is empty (shape {X.shape})")
    if X.shape[0] != y.shape[0]:
        raise InputError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    if not np.isfinite(X).all():
        raise InputError("X contains NaN or infinite values")
    if not np.isfinite(y).all():
        raise InputError("y contains NaN or infinite values")
    return X, y


def validate_beta(beta: object) -> float:
    """Return beta as a float > 0, or raise InputError."""
    try:
        b = float(beta)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"beta must be a number, got {beta!r}") from None
    if not np.isfinite(b) or b <= 0:
        raise InputError(f"beta must be finite and > 0, got {beta!r}")
    return b


@dataclass(frozen=True, eq=False)
class Problem:
    """A validated instance. ``X`` already carries the bias column when ``bias`` is True.

    Build it with :meth:`Problem.create`, which validates input and draws or enumerates the patterns.
    """

    X: np.ndarray
    y: np.ndarray
    beta: float
    masks: np.ndarray  # (n, P) bool, column i = diag(D_i)
    bias: bool = False
    name: str = "problem"
    pattern_spec: str = field(default="given")
    loss: str = "squared"
    epsilon: float = 0.0  # l_inf radius of the perturbations a robust formulation trains against
    gates: np.ndarray | None = None  # (d, P) directions that drew sampled patterns (None: enumerated or given)

    @classmethod
    def create(
        cls,
        X: object,
        y: object,
        beta: object,
        patterns: int | str | np.ndarray = 100,
        seed: int = 0,
        bias: bool = False,
        name: str = "problem",
        max_patterns: int = DEFAULT_MAX_PATTERNS,
        loss: str = "squared",
        epsilon: float = 0.0,
    ) -> Problem:
        """Validate data and build patterns.

        ``loss`` is one of :data:`relubench.problem.spec.LOSS_NAMES` (hinge needs labels in {-1, +1});
        ``epsilon`` >= 0 the l_inf radius a robust formulation trains against (the bias column is never perturbed).

        ``patterns`` is a count P (seeded Gaussian sampling, P distinct non-zero patterns), ``"all"`` (exact
        enumeration; refused above ``max_patterns``), or a boolean (n, P) mask array given by the user.
        With ``bias`` a column of ones is appended to X before patterns are drawn.
        """
        X, y = validate_data(X, y)
        b = validate_beta(beta)
        pc = ProblemClass("relu", loss, 1, epsilon)  # validates the loss name and epsilon
        if loss in LABEL_LOSSES and not np.isin(y, (-1.0, 1.0)).all():
            raise InputError(f"the {loss} loss needs labels in {{-1, +1}}")
        if bias:
            X = with_bias_column(X)
        if isinstance(patterns, str):
            if patterns != "all":
                try:
                    patterns = int(patterns)
                except ValueError:
                    raise InputError(f"patterns must be a positive integer or 'all', got {patterns!r}") from None
        gates = None
        if isinstance(patterns, str):
            masks = enumerate_patterns(X, max_patterns=max_patterns)
            spec = "all"
        elif isinstance(patterns, np.ndarray):
            masks = np.asarray(patterns)
            if masks.ndim != 2 or masks.shape[0] != X.shape[0]:
                raise InputError(f"pattern masks must have shape (n={X.shape[0]}, P), got {masks.shape}")
            if masks.dtype != bool:
                if not np.isin(masks, (0, 1)).all():
                    raise InputError("pattern masks must be boolean (0/1)")
                masks = masks.astype(bool)
            if masks.shape[1] == 0:
                raise InputError("pattern masks are empty (P = 0)")
            spec = "given"
        else:
            if isinstance(patterns, bool) or int(patterns) < 1:
                raise InputError(f"number of patterns must be >= 1, got {patterns!r}")
            require_memory(
                BYTES_PER_MASK_ENTRY * X.shape[0] * int(patterns), f"{int(patterns)} patterns of {X.shape[0]} rows"
            )
            masks, gates = sample_patterns_with_gates(X, int(patterns), seed=seed)
            gates.setflags(write=False)
            spec = f"sampled:{int(patterns)}:seed={seed}"
        X.setflags(write=False)
        y.setflags(write=False)
        masks = np.ascontiguousarray(masks)
        masks.setflags(write=False)
        return cls(
            X=X,
            y=y,
            beta=b,
            masks=masks,
            bias=bool(bias),
            name=name,
            pattern_spec=spec,
            loss=pc.loss,
            epsilon=float(pc.epsilon),
            gates=gates,
        )

    @property
    def outputs(self) -> int:
        """Number of outputs c (columns of y; 1 for a vector y)."""
        return 1 if self.y.ndim == 1 else self.y.shape[1]

    def problem_class(self, formulation: str, epsilon: float | None = None) -> ProblemClass:
        """The class of solving this problem in ``formulation``: its loss and outputs, the formulation's name."""
        return ProblemClass(formulation, self.loss, self.outputs, self.epsilon if epsilon is None else epsilon)

    @cached_property
    def perturbable(self) -> np.ndarray:
        """1.0 for the feature columns an adversary may perturb, 0.0 for the bias column (float64, length d)."""
        return perturbable_columns(self.d, self.bias)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def P(self) -> int:
        return self.masks.shape[1]

    @cached_property
    def mask_float(self) -> np.ndarray:
        """Masks as float64 (n, P), for products such as ``mask * (X @ U)``."""
        return self.masks.astype(float)

    @cached_property
    def signs(self) -> np.ndarray:
        """2 D - 1 as float64 (n, P): the cone constraints read ``signs * (X @ V) >= 0``."""
        return 2.0 * self.mask_float - 1.0

    @cached_property
    def masked_scale(self) -> float:
        """sum_i ||D_i X||_F^2 / (P d), the mean squared column norm of the masked data: the data term's scale
        (ADMM's default penalty, the interior point's regularization)."""
        return float((self.mask_float.T @ (self.X * self.X)).sum() / (self.P * self.d))

    @property
    def groups(self) -> int:
        """Groups per convex block: c P (pattern i of output k in column k P + i)."""
        return self.outputs * self.P

    @cached_property
    def group_masks(self) -> np.ndarray:
        """The masks repeated once per output (n, cP); the same array as mask_float for one output."""
        return self.mask_float if self.outputs == 1 else np.tile(self.mask_float, (1, self.outputs))

    @cached_property
    def group_signs(self) -> np.ndarray:
        """2 D - 1 repeated once per output (n, cP)."""
        return self.signs if self.outputs == 1 else np.tile(self.signs, (1, self.outputs))

    def cone_directions(self, groups: np.ndarray, cache: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """A direction deep inside the cone of each of these groups (d, len(groups)); group k P + i is pattern i's.
        One LP per pattern (:func:`relubench.problem.patterns.cone_generators`, started from the gates where there
        are); ``cache`` (a dict a solve keeps for itself) holds the patterns already done, so that each solve pays
        for its own and timings do not depend on an earlier solve of the same problem."""
        cache = {} if cache is None else cache
        patterns = [int(g) % self.P for g in groups]
        missing = sorted(set(patterns) - set(cache))
        if missing:
            gates = None if self.gates is None else self.gates[:, missing]
            found = cone_generators(self.X, self.masks[:, missing], gates)
            cache.update({i: found[:, j] for j, i in enumerate(missing)})
        if not patterns:
            return np.zeros((self.d, 0))
        return np.stack([cache[i] for i in patterns], axis=1)

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 over X, y, beta and the masks: the key of cached reference optima."""
        h = hashlib.sha256()
        for arr in (self.X, self.y):
            h.update(str(arr.shape).encode())
            h.update(np.ascontiguousarray(arr, dtype="<f8").tobytes())
        h.update(repr(float(self.beta)).encode())
        h.update(str(self.masks.shape).encode())
        h.update(np.packbits(self.masks, axis=0).tobytes())
        if self.loss != "squared":  # the squared loss hashes as before losses existed: cached references stay valid
            h.update(f"loss={self.loss}".encode())
        if self.epsilon:
            h.update(f"epsilon={self.epsilon!r}".encode())
        return h.hexdigest()

    def describe(self) -> str:
        return f"{self.name}: n={self.n} d={self.d} P={self.P} beta={self.beta:g} bias={self.bias}"


@dataclass(frozen=True, eq=False)
class ArrayView:
    """The arrays of a :class:`Problem` on one library, device and dtype, under the Problem's attribute names."""

    X: Array
    y: Array
    mask_float: Array
    group_masks: Array
    group_signs: Array
    beta: float
    loss: str
    n: int
    d: int
    P: int
    outputs: int
    groups: int
    source: Problem | None = None
    convert: Callable[[Any], Array] | None = None

    def cone_directions(self, groups: np.ndarray, cache: dict[int, np.ndarray] | None = None) -> Array:
        """The Problem's cone_directions on this view's library."""
        return self.convert(self.source.cone_directions(groups, cache))


def view(problem: Problem, asarray: Callable[[Any], Array]) -> ArrayView:
    """``problem``'s arrays converted by ``asarray`` (which fixes library, device and dtype)."""
    masks = asarray(problem.mask_float)
    signs = asarray(problem.signs)
    one = problem.outputs == 1
    return ArrayView(
        X=asarray(problem.X),
        y=asarray(problem.y),
        mask_float=masks,
        group_masks=masks if one else asarray(problem.group_masks),
        group_signs=signs if one else asarray(problem.group_signs),
        beta=problem.beta,
        loss=problem.loss,
        n=problem.n,
        d=problem.d,
        P=problem.P,
        outputs=problem.outputs,
        groups=problem.groups,
        source=problem,
        convert=asarray,
    )
