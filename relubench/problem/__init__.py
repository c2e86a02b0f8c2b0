"""What is solved: data and patterns, the problem class, losses, formulations and their conic data.

Modules (each imports only those above it): ``spec`` (ProblemClass, the names), ``patterns`` (activation
patterns: sampling and enumeration), ``instance`` (Problem: validated X, y, beta, masks), ``losses``,
``formulations`` (objectives, violation, network mapping, prox and duality-gap pieces), ``conic`` (conic data
for the interior-point backends). The names below are re-exported for convenience.
"""

from relubench.problem.instance import Problem, beta_from_scnn_lambda, scnn_lambda_from_beta
from relubench.problem.spec import ProblemClass

__all__ = ["Problem", "ProblemClass", "beta_from_scnn_lambda", "scnn_lambda_from_beta"]
