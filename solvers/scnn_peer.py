"""The peer library scnn (Mishkin, Sahiner & Pilanci, ICML 2022; PyPI ``pyscnn``) as two backends.

* ``scnn-fista``: its R-FISTA (restarted FISTA with line search) on the gated program;
* ``scnn-al``: its augmented Lagrangian (R-FISTA inner solves) on the relu program.

Optional extra: ``pip install 'relubench[scnn]'`` (pyscnn 0.0.10 and its dependencies as it declares them: torch,
torchvision, which it never imports, linalg-backends, opt-einsum, tqdm). Without it, or with another version or an
API that differs, both report "unavailable: <reason>".

**Same problem.** scnn minimizes ``||R||_F^2 / (2 n c) + lam sum ||z_{k,i}||`` (n rows, c outputs; checked
against its own objective), so relubench passes ``lam = beta / (n c)``: the same minimizers as relubench's
``1/2 ||R||^2 + beta sum ||z||`` (scnn's objective times n c). scnn computes patterns as ``1[X g > 0]``, removes
duplicates and sorts them; relubench instead hands its own masks (n x P, ``1[X g >= 0]``) to scnn's model classes
(``ConvexMLP``, ``AL_MLP``), whose training uses exactly the masks given, in their order, with
``unitize_data`` off (scnn's default rescales the columns of X, which changes the patterns). The weights come
back as (c, P, d) arrays, reshaped to relubench's (d, c P) layout; relubench recomputes objective, violation and
gap from them like for every backend.

**Stopping.** scnn's own tests: R-FISTA stops when the squared norm of the minimum-norm subgradient of its scaled
objective is <= ``scnn_tol``; the AL when that and the sum of squared cone violations are (``constraint_tol`` =
``scnn_tol``). relubench's tol has no exact counterpart: ``scnn_tol`` defaults to max(tol^2 / 100, 1e-16) (at
tol^2, R-FISTA stopped 1.4e-4 above the optimum on crx, 200 rows, P = 10, at tol 1e-4; on 60 x 4, P = 8, R-FISTA
at 1e-10 ends 7.7e-8 above it, the AL 3.0e-5; below 1e-16 rounding keeps it from stopping). Times to a tolerance
come from the trace, so a tighter test costs scnn nothing there. Status ``optimal`` means scnn's test held (its
row says so), never a certificate; the relu rows are downgraded to ``inaccurate`` by relubench when the returned
point's violation exceeds tol max|y|. scnn has no time limit: relubench wraps its termination tests, which then
stop it at the deadline (status ``time_limit``), and records the trace (objective and violation computed by
relubench from scnn's current weights) every ``check_every`` tests.

**Side effects contained.** Each solve reseeds numpy's and torch's global generators (scnn's ``set_seeds``; torch's
CUDA generators too where CUDA is initialized), configures the root logger and sets logging levels: relubench
restores those generator states, the root logger's level and handlers and the "scnn" logger's level afterwards.

**Measured** (tests/test_scnn.py, the KEEL suite in docs/results.md): R-FISTA reaches Clarabel's gated optimum to
1e-6; the AL converges slowly: its time goes to opt_einsum's contraction-path search on every product (about 60 %
of a solve at 200 rows), and its own test stops it about 1e-5 (tightest) to 3e-4 above the relu optimum.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import time
from collections.abc import Generator
from typing import Any

import numpy as np

from relubench.problem.formulations import get_formulation
from relubench.problem.instance import Problem
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Option, Solver, register

SCNN_VERSION = "0.0.10"
# what the adapter uses of scnn (module -> names): a missing one makes the backends unavailable, with its name
_API = {
    "scnn.private.interface": ("build_optimizer", "build_metrics_tuple", "get_logger", "set_device",
                               "build_internal_regularizer"),
    "scnn.private.models": ("ConvexMLP", "AL_MLP"),
    "scnn.models": ("ConvexGatedReLU", "ConvexReLU"),
    "scnn.solvers": ("RFISTA", "AL"),
    "scnn.regularizers": ("NeuronGL1",),
    "scnn.metrics": ("Metrics",),
}  # fmt: skip
INSTALL = "pip install 'relubench[scnn]'"


def scnn_available() -> tuple[bool, str]:
    """(True, "") when pyscnn is installed at the version the adapter is written for, with every name it uses."""
    try:
        version = importlib.metadata.version("pyscnn")
    except importlib.metadata.PackageNotFoundError:
        return False, f"pyscnn not installed ({INSTALL})"
    if version != SCNN_VERSION:
        return False, f"pyscnn {version} installed; relubench's adapter is written for pyscnn {SCNN_VERSION}"
    for module, names in _API.items():
        try:
            mod = importlib.import_module(module)
        except Exception as exc:  # any import failure of the optional library (a missing dependency among them)
            return False, f"pyscnn {version}: cannot import {module} ({type(exc).__name__}: {exc})"
        missing = [n for n in names if not hasattr(mod, n)]
        if missing:
            return False, f"pyscnn {version}: {module} lacks {', '.join(missing)} (API mismatch)"
    return True, ""


class _Deadline:
    """Wraps one of scnn's termination tests: the test itself until the deadline, then True (stop). Every
    ``every`` calls it records a trace point of the model's current weights. ``tol`` reads and writes the wrapped
    test's (scnn's AL tightens its inner test through it)."""

    def __init__(self, inner: Any, deadline: float | None, record: Any, every: int) -> None:
        self.__dict__["inner"] = inner
        self.__dict__["deadline"] = deadline
        self.__dict__["record"] = record
        self.__dict__["every"] = every
        self.__dict__["calls"] = 0
        self.__dict__["expired"] = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["inner"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__:
            self.__dict__[name] = value
        else:
            setattr(self.__dict__["inner"], name, value)

    def __call__(self, model: Any, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        if self.record is not None and self.calls % self.every == 0:
            self.record(model)
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            self.expired = True
            return True
        return bool(self.inner(model, *args, **kwargs))


class _ScnnBackend(Solver):
    """The shared adapter: build scnn's model on relubench's masks, run its procedure, read the weights back."""

    family = "first-order"

    @classmethod
    def available(cls) -> tuple[bool, str]:
        return scnn_available()

    @classmethod
    def version(cls) -> str:
        try:
            return f"pyscnn {importlib.metadata.version('pyscnn')}"
        except importlib.metadata.PackageNotFoundError:
            return "pyscnn (not installed)"

    def _weights(self, problem: Problem, w: np.ndarray, formulation: str) -> dict[str, np.ndarray]:
        """scnn's (c, P, d) (gated) or (2, c, P, d) (relu: V, W) weights in relubench's (d, c P) layout."""
        w = np.asarray(w, dtype=float)

        def layout(z: np.ndarray) -> np.ndarray:  # column k P + i: output k, pattern i
            return np.ascontiguousarray(z.transpose(2, 0, 1).reshape(problem.d, -1))

        return {"U": layout(w)} if formulation == "gated" else {"V": layout(w[0]), "W": layout(w[1])}

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Generator[None, Callback | None, Result]:
        from scnn.metrics import Metrics
        from scnn.models import ConvexGatedReLU, ConvexReLU
        from scnn.private.interface import (
            build_internal_regularizer,
            build_metrics_tuple,
            build_optimizer,
            get_logger,
            set_device,
        )
        from scnn.private.models import AL_MLP, ConvexMLP
        from scnn.regularizers import NeuronGL1
        from scnn.solvers import AL, RFISTA

        form = get_formulation(formulation)
        c = problem.outputs
        X = np.ascontiguousarray(problem.X, dtype=float)
        Y = np.asarray(problem.y, dtype=float).reshape(problem.n, c)
        D = problem.masks.astype(float)
        G = problem.gates if problem.gates is not None else np.zeros((problem.d, problem.P))
        lam = problem.beta / (problem.n * c)
        scnn_tol = self.option("scnn_tol") or max(tol**2 / 100, 1e-16)  # below 1e-16: rounding
        saved = _GlobalState()
        try:
            set_device("cpu", "float64", self.option("seed"))
            logger = get_logger("scnn", False)
            logging.getLogger("scnn").setLevel(logging.ERROR)  # its "max iterations reached" warnings: our status
            reg = NeuronGL1(lam)
            internal = build_internal_regularizer(reg)
            if formulation == "gated":
                model = ConvexMLP(problem.d, D, G, "einsum", regularizer=internal, c=c)
                spec = RFISTA(ConvexGatedReLU(G, c=c), max_iters=self.option("max_iter"), tol=scnn_tol)
            else:
                model = AL_MLP(problem.d, D, G, "einsum", delta=self.option("delta"), regularizer=internal, c=c)
                spec = AL(
                    ConvexReLU(G, c=c),
                    max_primal_iters=self.option("max_iter"),
                    max_dual_iters=self.option("max_iter"),
                    tol=scnn_tol,
                    constraint_tol=scnn_tol,
                )
            metrics = Metrics()
            proc = build_optimizer(spec, reg, metrics)
        finally:
            saved.restore()
        callback = yield  # setup ends: scnn's model and procedure built
        tracer = Tracer(callback)

        def record(m: Any) -> None:
            w = self._weights(problem, m.weights, formulation)
            tracer.record(form.objective(problem, w), form.violation(problem, w))

        deadline = None if time_limit is None else time.perf_counter() + time_limit
        every = self.option("check_every")
        if formulation == "gated":
            proc.term_criterion = watch = _Deadline(proc.term_criterion, deadline, record, every)
            inner = watch
        else:  # scnn runs the outer test after every inner step: it records; both stop at the deadline
            proc.outer_term_criterion = watch = _Deadline(proc.outer_term_criterion, deadline, record, every)
            proc.inner_term_criterion = inner = _Deadline(proc.inner_term_criterion, deadline, None, every)
        saved = _GlobalState()
        try:
            set_device("cpu", "float64", self.option("seed"))
            exit_status, model, _ = proc(logger, model, lambda m: m, (X, Y), (X, Y), build_metrics_tuple(metrics))
        finally:
            saved.restore()
        weights = self._weights(problem, model.weights, formulation)
        iterations = int(exit_status.get("iterations", exit_status.get("total_inner_iterations", 0)))
        finite = all(np.isfinite(w).all() for w in weights.values())
        if finite:
            record(model)
        if not finite:
            status, why = "numerical_error", "non-finite weights"
        elif watch.expired or inner.expired:
            status, why = "time_limit", "stopped at the time limit"
        elif exit_status.get("success"):
            status, why = "optimal", f"scnn's own stopping test held (tol {scnn_tol:.3g}; not a certificate)"
        else:
            status, why = "max_iter", "scnn's iteration limit"
        detail = ", ".join(f"{k}={v}" for k, v in exit_status.items() if k != "success")
        return Result(
            self.name,
            formulation,
            status,
            iterations=iterations,
            solve_s=tracer.elapsed(),
            weights=weights,
            trace=tracer.points,
            message=f"{why}; lam = beta / (n c) = {lam:.4g}; {detail}",
        )


class _GlobalState:
    """numpy's and torch's global generator states (CUDA's where initialized), the root logger's level and handlers
    and the "scnn" logger's level, saved now, restored by :meth:`restore` (scnn changes them on every solve)."""

    def __init__(self) -> None:
        self.numpy = np.random.get_state()
        root = logging.getLogger()
        self.level, self.handlers = root.level, list(root.handlers)
        self.scnn_level = logging.getLogger("scnn").level
        torch = _torch()
        self.torch = torch.random.get_rng_state() if torch is not None else None
        cuda = torch is not None and torch.cuda.is_initialized()
        self.cuda = torch.cuda.get_rng_state_all() if cuda else None

    def restore(self) -> None:
        np.random.set_state(self.numpy)
        root = logging.getLogger()
        root.setLevel(self.level)
        root.handlers[:] = self.handlers
        logging.getLogger("scnn").setLevel(self.scnn_level)
        torch = _torch()
        if torch is not None and self.torch is not None:
            torch.random.set_rng_state(self.torch)
        if torch is not None and self.cuda is not None:
            torch.cuda.set_rng_state_all(self.cuda)


def _torch() -> Any:
    import sys

    return sys.modules.get("torch")  # only if already imported (scnn imports it)


_OPTIONS = {
    "max_iter": Option(int, 100_000, low=1, doc="R-FISTA iterations; AL: total inner iterations and outer steps"),
    "scnn_tol": Option(float, None, low=0, low_open=True, doc="scnn's tolerance (default max(tol^2 / 100, 1e-16))"),
    "check_every": Option(int, 10, low=1, doc="trace a point every this many termination tests"),
    "seed": Option(int, 778, low=0, doc="scnn's seed (its default)"),
}


@register
class ScnnFista(_ScnnBackend):
    """scnn's R-FISTA on the gated program, on relubench's patterns (the peer library; optional extra)."""

    name = "scnn-fista"
    description = "peer library scnn: R-FISTA on the gated program (pyscnn, optional extra)"
    capabilities = Capabilities(formulations=("gated",), max_outputs=None, max_size=10**7, benchmark=False,
                                options=_OPTIONS)  # fmt: skip


@register
class ScnnAL(_ScnnBackend):
    """scnn's augmented Lagrangian on the relu program, on relubench's patterns (the peer library; optional)."""

    name = "scnn-al"
    description = "peer library scnn: augmented Lagrangian on the relu program (pyscnn, optional extra)"
    capabilities = Capabilities(
        formulations=("relu",),
        max_outputs=None,
        max_size=10**7,
        benchmark=False,
        options={**_OPTIONS, "delta": Option(float, 1000.0, low=0, low_open=True, doc="scnn's AL penalty start")},
    )
