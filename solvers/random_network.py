"""An untrained network with Gaussian weights: the yardstick of the attack experiments (Bubeck et al. 2021)."""

from __future__ import annotations

from relubench.problem.instance import Problem
from relubench.running.attacks import random_network
from relubench.running.result import Callback, Result
from relubench.running.solver import Capabilities, Option, Solver, register


@register
class RandomNetwork(Solver):
    """u_j ~ N(0, I_d / d), a_j ~ N(0, 1 / m), seeded; no training (status ``untrained``). Options: width, seed."""

    name = "random-net"
    family = "baseline"
    description = "untrained network with Gaussian weights (the yardstick of the attack experiments)"
    capabilities = Capabilities(
        formulations=("nonconvex",),
        losses=("squared", "hinge", "logistic"),
        benchmark=False,
        options={"width": Option(int, 100, low=1), "seed": Option(int, 0, low=0)},
    )

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Result:
        U, a = random_network(problem.d, self.option("width"), self.option("seed"))
        return Result(self.name, formulation, "untrained", weights={"U": U, "a": a}, message="Gaussian weights")
