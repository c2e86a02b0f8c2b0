"""Backends: the :class:`Solver` interface, the :class:`Capabilities` each one declares, and the registry.

Every backend is a :class:`Solver` subclass in its own module under ``relubench.solvers`` (top-level
``solvers/`` in the source tree), decorated with :func:`register`. The registry discovers them: on first use it
imports every module of that package (so adding a backend is adding one file), then the comma-separated modules
named in the environment variable ``RELUBENCH_PLUGINS`` (third-party or test-only backends; sweep worker
processes inherit it).

Everything that depends on what a backend can do -- ``relubench solvers``, CLI and sweep-config validation,
the asv parameter grid, which backends compute reference optima -- reads the declared :class:`Capabilities`;
nothing else lists backends by name.
"""

from __future__ import annotations

import importlib
import inspect
import math
import multiprocessing
import numbers
import os
import pkgutil
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from relubench import __version__
from relubench.errors import InputError, MemoryRequirementError, NumericalError
from relubench.problem.formulations import evaluate, get_formulation
from relubench.problem.instance import Problem, y_scale
from relubench.problem.spec import ProblemClass
from relubench.running.device import (
    PRECISIONS,
    Placement,
    check_placement,
    cuda_status,
    placement,
)
from relubench.running.result import Callback, Result

FAMILIES = ("interior-point", "first-order", "baseline")
ISOLATION_START_S = 60.0  # start-up of the separate process of a backend without a time limit of its own
ISOLATION_GRACE = 0.1  # killed at (1 + this) x the limit, once that process is ready to solve
DEVICES = ("cpu", "cuda")

_REGISTRY: dict[str, type[Solver]] = {}
_LOADED = False


@dataclass(frozen=True)
class Option:
    """One option a backend takes: its type, its default and the values it accepts, declared with the backend's
    capabilities and checked (by :func:`check_options`) wherever options arrive -- the command line, a sweep config
    as it is loaded, an instance built in code -- before any work. ``default`` None: the backend chooses at solve
    time from the problem (``doc`` says how). ``low``/``high`` bound numbers (excluded with ``low_open`` /
    ``high_open``); ``choices`` lists the strings a str option takes."""

    kind: type
    default: Any = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | None = None
    doc: str = ""

    def accepted(self) -> str:
        """The values it accepts, in words ('' for any value of its type)."""
        if self.choices is not None:
            return "one of " + ", ".join(map(repr, self.choices))
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return " and ".join(parts)

    def check(self, solver: str, key: str, value: Any) -> Any:
        """The value converted to the option's type; InputError naming the solver and option if it is not one."""
        abstract = {int: numbers.Integral, float: numbers.Real}.get(self.kind, self.kind)
        ok = isinstance(value, abstract) and (self.kind is bool or not isinstance(value, bool))
        if ok and self.kind is float and not math.isfinite(value):
            ok = False
        if not ok:
            raise InputError(f"solver {solver!r} option {key!r} must be {self.kind.__name__}, got {value!r}")
        value = self.kind(value)
        bad = (
            (self.choices is not None and value not in self.choices)
            or (self.low is not None and (value <= self.low if self.low_open else value < self.low))
            or (self.high is not None and (value >= self.high if self.high_open else value > self.high))
        )
        if bad:
            raise InputError(f"solver {solver!r} option {key!r} must be {self.accepted()}, got {value!r}")
        return value


def as_option(spec: Option | type) -> Option:
    """An :class:`Option` as declared, or one of a bare type (any value of it; the backend's default)."""
    return spec if isinstance(spec, Option) else Option(spec)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can solve and how it should be offered. Declared once, in the backend's own file.

    ``options`` maps each solver option the backend accepts to an :class:`Option` (type, default, accepted values;
    a bare type stands for an Option of that type); an unknown option is an error. ``time_limit``: the backend
    honours the time limit it is given; one that cannot (ECOS) is run in a separate process killed at
    ``(1 + ISOLATION_GRACE)`` times the limit (its start and setup not counted).
    ``max_size``: the largest n * P (rows x patterns) it should be offered in benchmarks (None: no limit);
    ``max_rows``: the largest n (a backend holding n x n matrices).
    ``benchmark``: offered in the asv grid (cross-check routes are not). ``reference_rank``: may compute
    reference optima at high accuracy; lower ranks are tried first (None: never). ``devices``: where it computes;
    a backend with more than ``cpu`` also takes the options of the placement options (device, array_library, precision)
    (device, array_library, precision), added here; ``precisions``: the values its option precision takes
    (default double and single; ADMM's own: mixed and double).
    """

    formulations: tuple[str, ...]
    losses: tuple[str, ...] = ("squared",)
    max_outputs: int | None = 1  # None: any number of outputs
    devices: tuple[str, ...] = ("cpu",)
    warm_start: bool = False
    certified_gap: bool = False
    max_size: int | None = None
    max_rows: int | None = None
    precisions: tuple[str, ...] = PRECISIONS
    benchmark: bool = True
    reference_rank: int | None = None
    time_limit: bool = True
    options: Mapping[str, Option] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        for f in self.formulations:
            get_formulation(f)  # unknown names fail at registration
        bad = [d for d in self.devices if d not in DEVICES]
        if not self.formulations or bad or "cpu" not in self.devices:
            raise TypeError(f"capabilities need formulations and devices in {DEVICES} (cpu among them), got {self!r}")
        options = dict(self.options)
        if len(self.devices) > 1:  # the placement options (their values checked by check_placement)
            placed = {
                "device": Option(str, "cpu", doc="where it computes: " + ", ".join(self.devices)),
                "array_library": Option(str, None, doc="numpy, torch, array-api-strict (default numpy; cuda: torch)"),
                "precision": Option(str, self.precisions[0], doc="one of " + ", ".join(self.precisions)),
            }
            options = {**placed, **options}
        object.__setattr__(self, "options", MappingProxyType({k: as_option(v) for k, v in options.items()}))

    def why_not(self, pc: ProblemClass) -> str | None:
        """None when the backend solves problems of class ``pc``, else the reason it does not."""
        if pc.formulation not in self.formulations:
            return f"it does not solve the {pc.formulation!r} formulation (it solves: {', '.join(self.formulations)})"
        if pc.loss not in self.losses:
            return f"it does not handle the {pc.loss} loss (it handles: {', '.join(self.losses)})"
        if self.max_outputs is not None and pc.outputs > self.max_outputs:
            return f"it handles at most {self.max_outputs} output(s), the problem has {pc.outputs}"
        return None

    def offered_at(self, n: int, P: int) -> bool:
        """Whether benchmarks should offer this backend a problem of n rows and P patterns."""
        return (self.max_size is None or n * P <= self.max_size) and (self.max_rows is None or n <= self.max_rows)


@dataclass(eq=False)
class Prepared:
    """A backend set up for one solve (:meth:`Solver.setup`): the setup's wall time in ``seconds``, the
    suspended solve and everything else of that solve (its warm start); the solver object keeps nothing of it.
    ``result`` is set when the setup already decided the outcome (unavailable, a numerical error). Single use:
    :meth:`Solver.solve` marks it ``used``."""

    solver: str
    problem: Problem
    formulation: str
    tol: float
    time_limit: float | None
    seconds: float = 0.0
    run: Generator[None, Callback | None, Result] | None = None
    result: Result | None = None
    used: bool = False
    init: dict[str, np.ndarray] | None = None  # the starting weights of this solve (warm-starting backends)


class Solver:
    """A backend. Subclasses set ``name``, ``family``, ``capabilities`` and implement ``_solve``.

    ``solve(problem, formulation, tol, time_limit, callback)`` returns a :class:`Result` whose objective,
    network objective and violation are recomputed from the returned weights. ``tol`` is the backend's
    own stopping tolerance (relative gap/feasibility for conic solvers, relative residuals for first-order
    methods); the achieved accuracy is measured separately against a reference optimum.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities]
    description: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        self.options = check_options(type(self), options)

    def option(self, key: str) -> Any:
        """The option's value: as given, else its declared default (None: the backend chooses from the problem)."""
        return self.options[key] if key in self.options else self.capabilities.options[key].default

    @classmethod
    def available(cls) -> tuple[bool, str]:
        """(True, "") if this backend can run here, else (False, reason)."""
        return True, ""

    def placement(self) -> Placement:
        """Where this solve computes: the placement of the options device, array_library and precision."""
        device, library, precision = check_placement(
            self.options, self.capabilities.devices, self.capabilities.precisions
        )
        return placement(device, library, precision)

    @classmethod
    def version(cls) -> str:
        """Version string of the code that solves: relubench's own for backends written here."""
        return f"relubench {__version__}"

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Result | Generator[None, Callback | None, Result]:
        """The backend's work. A plain function is all solve (no setup). A generator function sets up, then
        ``callback = yield`` (setup ends there: :meth:`setup` times it), then solves and returns the Result; the
        ``callback`` argument is None then, the progress callback arrives at the yield. Backends that declare
        ``warm_start`` also take ``init`` (keyword): the starting weights of this solve, or None. Everything a solve
        needs is passed in or local to it: nothing of one solve is kept on the solver."""
        raise NotImplementedError

    def setup(
        self,
        problem: Problem,
        formulation: str | ProblemClass = "relu",
        tol: float = 1e-6,
        time_limit: float | None = None,
        init: Mapping[str, np.ndarray] | None = None,
    ) -> Prepared:
        """Set the backend up for one solve of ``problem`` (conic data and factorizations, compilation, step sizes,
        device transfers): the work before its first iteration, timed. Pass the result to :meth:`solve`
        (``prepared=``) with the same arguments; its ``seconds`` become the result's ``setup_s``. Single use.
        Raises InputError for a problem the backend does not solve or bad arguments, like :meth:`solve`."""
        pc = self._check_call(problem, formulation, tol, time_limit)
        start_at = check_init(problem, pc, init) if init is not None and self.capabilities.warm_start else None
        prepared = Prepared(self.name, problem, pc.formulation, tol, time_limit, init=start_at)
        ok, reason = self.available()
        if not ok:
            prepared.result = Result(self.name, pc.formulation, "unavailable", message=f"unavailable: {reason}")
            return prepared
        device = self.options.get("device", "cpu")
        if device == "cuda":
            ok, reason = cuda_status()
            if not ok:
                msg = f"unavailable: {reason}"
                prepared.result = Result(self.name, pc.formulation, "unavailable", message=msg, device=device)
                return prepared
        overflow = data_overflow(problem)
        if overflow is not None:  # no backend computes anything finite from such data: say so, for every one alike
            prepared.result = self._numerical_error(pc, NumericalError(overflow))
            return prepared
        if time_limit is not None and not self.capabilities.time_limit:
            return prepared  # set up (and timed) in the separate process of the solve
        if not inspect.isgeneratorfunction(type(self)._solve):
            return prepared  # no setup
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            start = time.perf_counter()
            try:
                prepared.run, prepared.result, prepared.seconds = _start(
                    self, problem, pc.formulation, tol, time_limit, prepared.init
                )
            except NumericalError as exc:
                prepared.result = self._numerical_error(pc, exc)
                prepared.seconds = time.perf_counter() - start
            except MemoryRequirementError as exc:  # refused from an estimate, before allocating: a result
                prepared.result = Result(self.name, pc.formulation, "memory", message=str(exc))
                prepared.seconds = time.perf_counter() - start
        return prepared

    def _numerical_error(self, pc: ProblemClass, exc: NumericalError) -> Result:
        return Result(self.name, pc.formulation, "numerical_error", message=str(exc), solver_version=self.version())

    def _check_call(
        self, problem: Problem, formulation: str | ProblemClass, tol: float, time_limit: float | None
    ) -> ProblemClass:
        pc = formulation if isinstance(formulation, ProblemClass) else problem.problem_class(formulation)
        why = self.capabilities.why_not(pc)
        if why is not None:
            raise InputError(f"solver {self.name!r} cannot solve this problem: {why}")
        if not (tol > 0):
            raise InputError(f"tolerance must be > 0, got {tol}")
        if time_limit is not None and not (time_limit > 0):
            raise InputError(f"time limit must be > 0 seconds, got {time_limit}")
        return pc

    def solve(
        self,
        problem: Problem,
        formulation: str | ProblemClass = "relu",
        tol: float = 1e-6,
        time_limit: float | None = None,
        callback: Callback | None = None,
        init: Mapping[str, np.ndarray] | None = None,
        prepared: Prepared | None = None,
    ) -> Result:
        """Solve ``problem`` (see the class docstring). ``init``: a starting point (weights of the formulation,
        e.g. the solution at a neighbouring beta) used by backends whose capabilities declare ``warm_start``
        and ignored by the others; it reaches the backend's ``_solve`` as its ``init`` argument. ``prepared``: what
        :meth:`setup` returned for the same problem, formulation, tolerance and time limit (its setup is then not
        done again); without it, solve sets up first. The result's ``setup_s`` is the setup's time (plus any setup a
        backend's solver reports doing inside its solve call, such as SCS's factorization through cvxpy),
        ``solve_s`` the rest; the time limit bounds the solve (after the setup)."""
        if prepared is None:
            prepared = self.setup(problem, formulation, tol, time_limit, init)
        else:
            if init is not None:
                raise InputError("with prepared=, pass init to setup(), where the solve starts")
            pc = self._check_call(problem, formulation, tol, time_limit)
            same = (prepared.formulation, prepared.tol, prepared.time_limit) == (pc.formulation, tol, time_limit)
            if prepared.solver != self.name or prepared.problem is not problem or not same:
                raise InputError("prepared= was set up for another solver, problem, formulation, tol or time limit")
        if prepared.used:
            raise InputError("a prepared solve runs once: call setup() again")
        prepared.used = True
        pc = problem.problem_class(prepared.formulation)
        if prepared.result is not None and prepared.run is None:
            res = prepared.result
        else:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # non-finite values are checked
                try:
                    if time_limit is not None and not self.capabilities.time_limit:
                        res = self._solve_isolated(problem, pc.formulation, tol, time_limit)
                    elif prepared.run is not None:
                        res = _resume(prepared.run, callback, prepared.seconds)
                    else:
                        res = self._solve(
                            problem, pc.formulation, tol, time_limit, callback, **_warm(self, prepared.init)
                        )
                except NumericalError as exc:
                    return self._numerical_error(pc, exc)
                except MemoryRequirementError as exc:  # refused from an estimate, before allocating: a result
                    return Result(self.name, pc.formulation, "memory", message=str(exc), solver_version=self.version())
        if res.status == "unavailable":
            return res
        device = self.options.get("device", "cpu")
        res.solver_version = res.solver_version or self.version()
        res.device = device
        if res.weights is not None:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for key, value in evaluate(problem, pc, res.weights).items():
                    setattr(res, key, value)
            limit = tol * y_scale(problem.y)
            if res.status == "optimal" and res.max_violation > limit:  # optimal needs feasibility to tol too
                res.status = "inaccurate"
                res.message += (
                    f"; stopping test met but the constraint violation {res.max_violation:.2e} exceeds "
                    f"tol * max|y| = {limit:.2e}"
                )
        return res

    def _solve_isolated(self, problem: Problem, formulation: str, tol: float, time_limit: float) -> Result:
        """``_solve`` in a spawned process, killed ``(1 + ISOLATION_GRACE) time_limit`` after it is ready to solve
        (its setup, such as cvxpy's compilation, done: the limit bounds the solve, as for every backend).

        The process's start (interpreter, imports: up to ``ISOLATION_START_S``) is not charged to the limit. No
        progress callback reaches such a backend.
        """
        ctx = multiprocessing.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        args = (send, self.name, self.options, problem, formulation, tol)
        proc = ctx.Process(target=_isolated_solve, args=args)
        proc.start()
        send.close()
        try:
            try:
                if not receive.poll(ISOLATION_START_S):
                    msg = f"the process of {self.name} did not start within {ISOLATION_START_S:g} s"
                    return Result(self.name, formulation, "error", message=msg)
                kind, payload = receive.recv()
                if kind == "ready":
                    start = time.perf_counter()
                    if not receive.poll((1.0 + ISOLATION_GRACE) * time_limit):
                        wall = time.perf_counter() - start
                        msg = f"killed after {wall:.1f} s: {self.name} has no time limit of its own"
                        msg += f" (limit {time_limit:g} s)"
                        return Result(self.name, formulation, "time_limit", solve_s=wall, message=msg)
                    kind, payload = receive.recv()
            except EOFError:
                return Result(self.name, formulation, "error", message=f"solver process died (exit {proc.exitcode})")
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join()
        if kind == "numerical_error":
            raise NumericalError(payload)
        if kind == "error":
            return Result(self.name, formulation, "error", message=payload)
        return payload


def data_overflow(problem: Problem) -> str | None:
    """Why ``problem``'s data overflow double precision (1/2 ||y||^2 or ||X||_F^2 is not finite), or None.

    Every backend squares the data (losses, Gram matrices, step sizes), so such data give no finite objective
    anywhere: each backend reports ``numerical_error`` with this reason instead of a library's guess
    ("infeasible", "error")."""
    with np.errstate(over="ignore", invalid="ignore"):
        y_sq = 0.5 * float(np.sum(np.square(problem.y)))
        x_sq = float(np.sum(np.square(problem.X)))
    for name, value, data in (("1/2 ||y||^2", y_sq, problem.y), ("||X||_F^2", x_sq, problem.X)):
        if not np.isfinite(value):
            big = float(np.max(np.abs(data))) if data.size else 0.0
            return (
                f"the data overflow double precision: {name} = {value} (entries up to {big:.3g}); "
                "rescale the data (e.g. standardize the features, divide the targets by max|y|)"
            )
    return None


def _isolated_solve(
    send: Any, name: str, options: dict[str, Any], problem: Problem, formulation: str, tol: float
) -> None:
    """Body of the process of :meth:`Solver._solve_isolated`: the result (or the failure) back through the pipe."""
    try:
        solver = get_solver(name, **options)
        solver.available()  # imports the backend's library before the clock starts
        if inspect.isgeneratorfunction(type(solver)._solve):
            run, res, seconds = _start(solver, problem, formulation, tol, None, None)  # setup, before the clock
            send.send(("ready", None))
            if run is not None:
                res = _resume(run, None, seconds)
        else:
            send.send(("ready", None))
            res = solver._solve(problem, formulation, tol, None, None)
        send.send(("ok", res))
    except NumericalError as exc:
        send.send(("numerical_error", str(exc)))
    except Exception as exc:  # reported as the result's message
        send.send(("error", f"{type(exc).__name__}: {exc}"))


def _warm(solver: Solver, init: dict[str, np.ndarray] | None) -> dict[str, Any]:
    """The keyword a warm-starting backend's ``_solve`` takes (its starting weights); none for the others."""
    return {"init": init} if solver.capabilities.warm_start else {}


def _start(
    solver: Solver,
    problem: Problem,
    formulation: str,
    tol: float,
    time_limit: float | None,
    init: dict[str, np.ndarray] | None,
) -> tuple[Generator[None, Callback | None, Result] | None, Result | None, float]:
    """Run a generator backend's ``_solve`` to its yield (the end of its setup), timed: (the suspended run, None,
    seconds), or (None, its Result, seconds) when it finished during its setup (e.g. a trivial problem)."""
    start = time.perf_counter()
    run = solver._solve(problem, formulation, tol, time_limit, None, **_warm(solver, init))
    try:
        next(run)
    except StopIteration as stop:
        return None, stop.value, time.perf_counter() - start
    return run, None, time.perf_counter() - start


def _resume(run: Generator[None, Callback | None, Result], callback: Callback | None, setup_s: float) -> Result:
    """Run a generator backend from its yield to its Result, whose ``setup_s`` becomes the ``setup_s`` seconds
    timed to the yield plus any setup the backend's solver reported doing inside its own call."""
    try:
        run.send(callback)
    except StopIteration as stop:
        res = stop.value
        res.setup_s = setup_s + res.setup_s
        return res
    run.close()
    raise RuntimeError("a backend's _solve yielded more than once (one yield ends its setup)")


def check_init(problem: Problem, pc: ProblemClass, init: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The warm start as finite float arrays of the formulation's block shapes (d x c P each), or InputError."""
    form = get_formulation(pc)
    shape = (problem.d, problem.groups)
    keys = [k for k, _ in form.blocks]
    if not keys or sorted(init) != sorted(keys):
        raise InputError(f"a warm start of the {pc.formulation} formulation has the weights {keys}, got {sorted(init)}")
    out = {k: np.array(init[k], dtype=float) for k in keys}
    for k, v in out.items():
        if v.shape != shape or not np.isfinite(v).all():
            raise InputError(f"warm start {k!r} must be a finite array of shape {shape}, got {v.shape}")
    return out


def check_options(cls: type[Solver], options: Mapping[str, Any]) -> dict[str, Any]:
    """Options converted to their declared types; InputError naming an unknown option, a value of a wrong type or
    one outside the values the option accepts (:class:`Option`)."""
    declared = cls.capabilities.options
    out = {}
    for key, value in options.items():
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InputError(f"solver {cls.name!r} has no option {key!r} (its options: {known})")
        out[key] = declared[key].check(cls.name, key, value)
    if len(cls.capabilities.devices) > 1:
        check_placement(out, cls.capabilities.devices, cls.capabilities.precisions)
    return out


def register(cls: type[Solver]) -> type[Solver]:
    """Class decorator adding a backend to the registry (names must be unique)."""
    caps = getattr(cls, "capabilities", None)
    if not cls.name or cls.family not in FAMILIES or not isinstance(caps, Capabilities):
        raise TypeError(f"solver {cls.__name__} needs name, family in {FAMILIES} and capabilities")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"solver name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load() -> None:
    """Discover the backends: every module of relubench.solvers, then RELUBENCH_PLUGINS (plugin loading)."""
    global _LOADED
    if _LOADED:
        return
    package = importlib.import_module("relubench.solvers")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        importlib.import_module(f"{package.__name__}.{info.name}")
    for name in filter(None, (m.strip() for m in os.environ.get("RELUBENCH_PLUGINS", "").split(","))):
        try:
            importlib.import_module(name)
        except Exception as exc:  # a plugin that fails to import (missing, broken, raising) is the user's input
            raise InputError(f"cannot import solver plugin {name!r} (RELUBENCH_PLUGINS): {exc}") from None
    _LOADED = True


def solver_names() -> list[str]:
    _load()
    return sorted(_REGISTRY)


def solver_class(name: str) -> type[Solver]:
    """The registered backend class of that name; InputError for an unknown name."""
    _load()
    if name not in _REGISTRY:
        raise InputError(f"unknown solver {name!r}; known solvers: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def get_solver(name: str, **options: Any) -> Solver:
    """An instance of the named backend; InputError for an unknown name or option."""
    return solver_class(name)(**options)


def solvers_for(pc: ProblemClass) -> list[type[Solver]]:
    """Every registered backend that solves problems of class ``pc``, by name."""
    return [solver_class(n) for n in solver_names() if solver_class(n).capabilities.why_not(pc) is None]


def reference_solvers(pc: ProblemClass) -> list[type[Solver]]:
    """Backends that may compute reference optima for ``pc``, in the order they are tried."""
    cands = [c for c in solvers_for(pc) if c.capabilities.reference_rank is not None]
    return sorted(cands, key=lambda c: (c.capabilities.reference_rank, c.name))
