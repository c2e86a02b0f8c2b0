"""The problem class: which loss, how many outputs, which formulation (and the robust radius), as one value.

A :class:`ProblemClass` names *what* is solved; the behaviour behind each name is looked up, never spelled out
with string comparisons in each module:

* the loss (:mod:`relubench.problem.losses`): value and gradient of the data-fitting term;
* the formulation (:mod:`relubench.problem.formulations`): objective, constraint violation, weight layout, the
  network mapping and which optimum serves as its reference;
* the conic data (:mod:`relubench.problem.conic`) for the interior-point backends;
* which backends can solve it (each backend's :class:`relubench.running.solver.Capabilities`).

A :class:`relubench.problem.instance.Problem` carries its loss and output count; ``problem.problem_class(
"relu")`` is the class of solving it in the relu formulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from relubench.errors import InputError

# The names this version knows. Each has one entry in the lookup table of its module (losses.LOSSES,
# formulations.FORMULATIONS); a test checks that the tables and these names agree.
LOSS_NAMES = ("squared", "hinge", "logistic")
FORMULATION_NAMES = ("relu", "gated", "nonconvex", "robust")


@dataclass(frozen=True)
class ProblemClass:
    """loss x outputs x formulation (x epsilon, the l_inf radius of a robust formulation; 0 otherwise)."""

    formulation: str
    loss: str = "squared"
    outputs: int = 1
    epsilon: float = 0.0

    def __post_init__(self) -> None:
        if self.formulation not in FORMULATION_NAMES:
            raise InputError(f"unknown formulation {self.formulation!r}; choose one of {', '.join(FORMULATION_NAMES)}")
        if self.loss not in LOSS_NAMES:
            raise InputError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSS_NAMES)}")
        if isinstance(self.outputs, bool) or not isinstance(self.outputs, int) or self.outputs < 1:
            raise InputError(f"outputs must be an integer >= 1, got {self.outputs!r}")
        if not (isinstance(self.epsilon, int | float) and math.isfinite(self.epsilon) and self.epsilon >= 0):
            raise InputError(f"epsilon must be a finite number >= 0, got {self.epsilon!r}")
        if self.formulation == "robust" and self.outputs > 1:
            raise InputError(f"the robust formulation handles one output, the problem has {self.outputs}")

    def describe(self) -> str:
        eps = f" eps={self.epsilon:g}" if self.epsilon else ""
        return f"{self.formulation} ({self.loss} loss, {self.outputs} output{'s' if self.outputs > 1 else ''}{eps})"
