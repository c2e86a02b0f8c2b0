"""Errors that the command line turns into a one-line message and exit code 2."""


class ReluBenchError(Exception):
    """Bad input or an impossible request: reported to the user as one line, never a traceback."""


class InputError(ReluBenchError, ValueError):
    """Invalid data, shapes, parameters or names."""
