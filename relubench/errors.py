"""Errors: bad input (one line, exit 2) and numerical failures inside a backend (a result, not a crash)."""


class ReluBenchError(Exception):
    """Bad input or an impossible request: reported to the user as one line, never a traceback."""


class InputError(ReluBenchError, ValueError):
    """Invalid data, shapes, parameters or names."""


class NumericalError(ArithmeticError):
    """A backend met non-finite values (overflow, NaN) or a step search that cannot succeed.

    Raised inside a backend's loops; :meth:`relubench.running.solver.Solver.solve` turns it into a result with
    status ``numerical_error`` and the message, so a sweep or a CLI run goes on.
    """
