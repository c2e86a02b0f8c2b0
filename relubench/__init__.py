"""relubench: compare solvers for training two-layer ReLU networks to global optimality via convex programs.

See README.md for the objective conventions (unscaled: 1/2 ||r||^2 + beta * penalty).
"""

__version__ = "0.1.0"
