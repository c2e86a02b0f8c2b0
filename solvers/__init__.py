"""Backends; importing this package registers them all (see relubench.registry)."""

from relubench.solvers import admm, conic_native, cvxpy_routes, nonconvex, proxgrad  # noqa: F401
