"""Errors: bad input (one line, exit 2) and numerical failures inside a backend (a result, not a crash)."""


class ReluBenchError(Exception):
    """Bad input or an impossible request: reported to the user as one line, never a traceback."""


class InputError(ReluBenchError, ValueError):
    """Invalid data, shapes, parameters or names."""


class MemoryRequirementError(InputError):
    """A computation this machine's memory cannot hold, refused from an estimate before anything is allocated.

    Raised by :func:`relubench.resources.require_memory`. Reading data that do not fit is bad input (exit 2); a
    backend that refuses a problem in its setup gives a result with status ``memory`` instead (a sweep, a CLI
    run with several backends and the benchmark scripts go on with the others)."""


class NumericalError(ArithmeticError):
    """A backend met non-finite values (overflow, NaN) or a step search that cannot succeed.

    Raised inside a backend's loops; :meth:`relubench.running.solver.Solver.solve` turns it into a result with
    status ``numerical_error`` and the message, so a sweep or a CLI run goes on.
    """
