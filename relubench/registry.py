"""Solver registry: every backend is a :class:`Solver` subclass decorated with :func:`register`.

Backends live in the ``relubench.solvers`` package (top-level ``solvers/`` in the source tree) and are
imported on first use of the registry, followed by the comma-separated modules named in the environment
variable ``RELUBENCH_PLUGINS`` (third-party or test-only backends; worker processes inherit it).
"""

from __future__ import annotations

import importlib
import os
from typing import Any, ClassVar

from relubench.errors import InputError
from relubench.formulations import check_formulation, evaluate
from relubench.problem import Problem
from relubench.result import Callback, Result

FAMILIES = ("interior-point", "first-order", "baseline")

_REGISTRY: dict[str, type[Solver]] = {}
_LOADED = False


class Solver:
    """A backend. Subclasses set ``name``, ``family``, ``formulations`` and implement ``_solve``.

    ``solve(problem, formulation, tol, time_limit, callback)`` returns a :class:`Result` whose objective,
    network objective and violation are recomputed from the returned weights. ``tol`` is the backend's
    own stopping tolerance (relative gap/feasibility for conic solvers, relative residuals for first-order
    methods); the achieved accuracy is measured separately against a reference optimum.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    formulations: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        self.options = options

    @classmethod
    def available(cls) -> tuple[bool, str]:
        """(True, "") if this backend can run here, else (False, reason)."""
        return True, ""

    @classmethod
    def version(cls) -> str:
        """Version string of the code that solves: relubench's own for backends written here."""
        from relubench import __version__

        return f"relubench {__version__}"

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Result:
        raise NotImplementedError

    def solve(
        self,
        problem: Problem,
        formulation: str = "relu",
        tol: float = 1e-6,
        time_limit: float | None = None,
        callback: Callback | None = None,
    ) -> Result:
        check_formulation(formulation)
        if formulation not in self.formulations:
            raise InputError(
                f"solver {self.name!r} does not solve the {formulation!r} formulation "
                f"(it solves: {', '.join(self.formulations)})"
            )
        if not (tol > 0):
            raise InputError(f"tolerance must be > 0, got {tol}")
        if time_limit is not None and not (time_limit > 0):
            raise InputError(f"time limit must be > 0 seconds, got {time_limit}")
        ok, reason = self.available()
        if not ok:
            return Result(self.name, formulation, "unavailable", message=f"unavailable: {reason}")
        res = self._solve(problem, formulation, tol, time_limit, callback)
        res.solver_version = res.solver_version or self.version()
        if res.weights is not None:
            for key, value in evaluate(problem, formulation, res.weights).items():
                setattr(res, key, value)
        return res


def register(cls: type[Solver]) -> type[Solver]:
    """Class decorator adding a backend to the registry (names must be unique)."""
    if not cls.name or cls.family not in FAMILIES or not cls.formulations:
        raise TypeError(f"solver {cls.__name__} needs name, family in {FAMILIES} and formulations")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"solver name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load() -> None:
    global _LOADED
    if not _LOADED:
        importlib.import_module("relubench.solvers")
        for name in filter(None, (m.strip() for m in os.environ.get("RELUBENCH_PLUGINS", "").split(","))):
            try:
                importlib.import_module(name)
            except ImportError as exc:
                raise InputError(f"cannot import solver plugin {name!r} (RELUBENCH_PLUGINS): {exc}") from None
        _LOADED = True


def solver_names() -> list[str]:
    _load()
    return sorted(_REGISTRY)


def get_solver(name: str, **options: Any) -> Solver:
    """An instance of the named backend; InputError for an unknown name."""
    _load()
    if name not in _REGISTRY:
        raise InputError(f"unknown solver {name!r}; known solvers: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**options)


def solver_class(name: str) -> type[Solver]:
    _load()
    if name not in _REGISTRY:
        raise InputError(f"unknown solver {name!r}; known solvers: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]
