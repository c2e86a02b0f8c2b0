"""Baselines on the non-convex network: (stochastic) gradient descent and Adam.

Objective, on the same unscaled scale as the convex programs (so the gap to the convex optimum is meaningful):
``1/2 ||relu(X U) a - y||^2 + beta/2 (||U||_F^2 + ||a||^2)``. Mini-batch gradients are scaled by n / batch
so that they are unbiased for this objective. Width m defaults to the number of active neurons of the
convex (relu) optimum over the problem's patterns (from the cached reference solve, counted as setup time).

Initialization is seeded: U ~ N(0, 1/d), a ~ N(0, 1/m). Full-batch ``sgd`` uses Armijo backtracking on the
step (monotone gradient descent); mini-batch ``sgd`` uses a constant step (option ``lr``, default: the step
backtracking accepts at initialization times batch / n); a run whose weights overflow ends with status
"error". ``adam`` uses lr 1e-2 by default. The objective on all data is traced once per epoch.
Loss: the problem's (squared, or hinge or logistic for +-1 labels). ``adversarial_eps`` > 0 trains adversarially
(Madry et al. 2018): each step's gradient is taken at PGD-perturbed copies of its rows (l_inf radius adversarial_eps,
``pgd_steps`` steps, default 10) with a constant step, and the run goes on to ``epochs`` (no stationarity test).
Devices: the options device, array_library and precision (:mod:`relubench.running.device`) run the same code on
numpy, torch (CPU or CUDA) or array-api-strict; initial weights and mini-batch orders come from the seeded numpy
generator whatever the placement. Adversarial training (PGD, :mod:`relubench.running.attacks`) runs on numpy only.
Status "optimal" means first-order stationarity (gradient norm <= tol times its initial value) -- a local
statement, not global optimality; otherwise "max_iter" or "time_limit".
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from relubench.errors import InputError, NumericalError, ReluBenchError
from relubench.problem.arrays import Array, namespace
from relubench.problem.instance import ArrayView, Problem
from relubench.problem.losses import Loss, get_loss
from relubench.running.attacks import pgd_attack
from relubench.running.device import Placement
from relubench.running.reference import reference_optimum
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Option, Solver, register


def _grad(X: Array, y: Array, U: Array, a: Array, beta: float, scale: float, loss: Loss) -> tuple[Array, Array]:
    xp = namespace(X, U)
    Z = X @ U
    H = xp.clip(Z, min=0.0)
    r = loss.gradient(H @ a, y)  # d loss / d prediction (squared: the residual)
    ga = scale * (H.T @ r) + beta * a
    outer = r[:, None] * a[None, :]
    gU = scale * (X.T @ xp.where(Z > 0, outer, xp.zeros_like(outer))) + beta * U
    return gU, ga


def _objective(data: Problem | ArrayView, U: Array, a: Array) -> float:
    """The network's objective (any array library): loss(relu(X U) a, y) + beta/2 (||U||^2 + ||a||^2)."""
    xp = namespace(data.X, U)
    loss = get_loss(data.loss).value(xp.clip(data.X @ U, min=0.0) @ a, data.y)
    return float(loss + 0.5 * data.beta * (float(xp.sum(U * U)) + float(xp.sum(a * a))))


def _norm2(gU: Array, ga: Array) -> float:
    xp = namespace(gU, ga)
    return float(xp.sum(gU * gU)) + float(xp.sum(ga * ga))


@dataclass(frozen=True)
class _Run:
    """What one solve works on: the problem, its placement and the problem's arrays there."""

    problem: Problem
    where: Placement
    data: Problem | ArrayView


class _NetworkBaseline(Solver):
    family = "baseline"
    capabilities = Capabilities(
        formulations=("nonconvex",),
        benchmark=False,
        losses=("squared", "hinge", "logistic"),
        devices=("cpu", "cuda"),
        options={
            "width": Option(
                int, None, low=1, doc="hidden units; default: the active neurons of the relu optimum (2 P without one)"
            ),
            "batch_size": Option(int, None, low=1, doc="rows per step; default n (full batch)"),
            "epochs": Option(int, 2000, low=1),
            "lr": Option(float, None, low=0, low_open=True, doc="step; default: sgd Armijo steps, adam 1e-2"),
            "seed": Option(int, 0, low=0),
            "adversarial_eps": Option(float, 0.0, low=0, doc="l_inf radius of PGD-perturbed batches (numpy only)"),
            "pgd_steps": Option(int, 10, low=1),
        },
    )

    def width(self, problem: Problem) -> tuple[int, str]:
        """(hidden units, a note for the message): the option, else the active neurons of the relu optimum, else
        (no reference optimum: its solve failed) 2 P, the most neurons the convex program can have."""
        if self.option("width") is not None:
            return self.option("width"), ""
        try:
            return max(1, int(reference_optimum(problem, "nonconvex").active_neurons)), ""
        except ReluBenchError as exc:
            return 2 * problem.P, f" (width 2P: no relu optimum to size it: {str(exc).splitlines()[0][:200]})"

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Generator[None, Callback | None, Result]:
        o = self.option
        m, width_note = self.width(problem)
        where = self.placement()
        if self.adversarial and not (where.library == "numpy" and where.precision == "double"):
            raise InputError("adversarial_eps (PGD batches) runs on the numpy placement only")
        where.reset_peak_memory()
        run = _Run(problem, where, where.view(problem))  # this solve's state (never kept on the solver)
        X, y, beta = run.data.X, run.data.y, problem.beta
        n, d = problem.n, problem.d
        rng = np.random.default_rng(o("seed"))
        U = where.asarray(rng.standard_normal((d, m)) / np.sqrt(d))
        a = where.asarray(rng.standard_normal(m) / np.sqrt(m))
        batch = min(n if o("batch_size") is None else o("batch_size"), n)
        epochs = o("epochs")
        callback = yield  # setup ends here (timed by Solver.setup)
        tracer = Tracer(callback)
        loss = get_loss(problem.loss)
        g0U, g0a = _grad(X, y, U, a, beta, 1.0, loss)
        g0 = math.sqrt(_norm2(g0U, g0a))
        state = self.init_state(run, U, a, g0U, g0a)
        status, epoch, gnorm = "max_iter", 0, g0
        tracer.record(_objective(run.data, U, a))
        xp = where.xp
        for epoch in range(1, epochs + 1):
            if batch == n:
                U, a = self.step(run, U, a, None, 1.0, state)
            else:
                perm = rng.permutation(n)
                for start in range(0, n - batch + 1, batch):  # steps over mini-batches, each vectorized
                    idx = perm[start : start + batch]
                    U, a = self.step(run, U, a, idx, n / batch, state)
            obj = _objective(run.data, U, a)
            tracer.record(obj)
            if not (math.isfinite(obj) and bool(xp.all(xp.isfinite(U))) and bool(xp.all(xp.isfinite(a)))):
                raise NumericalError(
                    f"{self.name}: non-finite objective or weights after epoch {epoch} (step or data too large?)"
                )
            gU, ga = _grad(X, y, U, a, beta, 1.0, loss)
            gnorm = math.sqrt(_norm2(gU, ga))
            if gnorm <= tol * g0 and not self.adversarial:
                status = "optimal"
                break
            if time_limit is not None and tracer.elapsed() >= time_limit:
                status = "time_limit"
                break
        return Result(
            self.name,
            formulation,
            status,
            iterations=epoch,
            solve_s=tracer.elapsed(),
            weights={"U": where.to_numpy(U), "a": where.to_numpy(a)},
            trace=tracer.points,
            message=f"width={m} batch={batch} epochs={epoch} grad_norm={gnorm:.3g}{width_note}",
            device_peak_bytes=where.peak_memory_bytes(),
        )

    def init_state(self, run: _Run, U: Array, a: Array, gU: Array, ga: Array) -> dict:
        return {}

    @property
    def adversarial(self) -> bool:
        return self.option("adversarial_eps") > 0

    def batch_gradient(
        self, run: _Run, U: Array, a: Array, idx: np.ndarray | None, scale: float
    ) -> tuple[Array, Array]:
        """Gradient on the rows idx (None: all); with ``adversarial_eps`` on their PGD-perturbed copies (Madry et
        al. 2018; numpy placement only)."""
        problem = run.problem
        if idx is None:
            Xb, yb = run.data.X, run.data.y
            if self.adversarial:
                Xb, yb = problem.X, problem.y
        else:
            take = run.where.indices(idx)
            Xb, yb = run.where.xp.take(run.data.X, take, axis=0), run.where.xp.take(run.data.y, take, axis=0)
        if self.adversarial:
            _, Xb = pgd_attack(
                Xb,
                yb,
                U,
                a,
                self.option("adversarial_eps"),
                loss=problem.loss,
                steps=self.option("pgd_steps"),
                restarts=1,
                perturbable=problem.perturbable,
                seed=self.option("seed"),
            )
        return _grad(Xb, yb, U, a, problem.beta, scale, get_loss(problem.loss))

    def step(
        self, run: _Run, U: Array, a: Array, idx: np.ndarray | None, scale: float, state: dict
    ) -> tuple[Array, Array]:
        raise NotImplementedError


def _armijo_step(
    data: Problem | ArrayView, U: Array, a: Array, gU: Array, ga: Array, lr: float
) -> tuple[Array, Array, float]:
    f0 = _objective(data, U, a)
    g2 = _norm2(gU, ga)
    while lr > 1e-16:
        Un, an = U - lr * gU, a - lr * ga
        if _objective(data, Un, an) <= f0 - 0.5 * lr * g2:
            return Un, an, lr
        lr *= 0.5
    return U, a, lr


@register
class SGD(_NetworkBaseline):
    """Gradient descent on the network: full batch with Armijo backtracking, or mini-batch with constant step.

    Options: width, batch_size (n), epochs (2000), lr, seed (0).
    """

    name = "sgd"
    description = "(stochastic) gradient descent on the non-convex two-layer network"

    def init_state(self, run: _Run, U: Array, a: Array, gU: Array, ga: Array) -> dict:
        problem = run.problem
        if self.option("lr") is not None:
            return {"lr": self.option("lr"), "fixed": True}
        _, _, lr = _armijo_step(run.data, U, a, gU, ga, 1.0)
        batch = min(problem.n if self.option("batch_size") is None else self.option("batch_size"), problem.n)
        if self.adversarial:  # the clean objective's Armijo test does not apply to perturbed batches
            return {"lr": lr * batch / problem.n, "fixed": True}
        if batch < problem.n:  # mini-batch gradients are scaled by n / batch: shrink the step alike
            return {"lr": lr * batch / problem.n, "fixed": True}
        return {"lr": lr, "fixed": False}

    def step(
        self, run: _Run, U: Array, a: Array, idx: np.ndarray | None, scale: float, state: dict
    ) -> tuple[Array, Array]:
        gU, ga = self.batch_gradient(run, U, a, idx, scale)
        if idx is None and not state["fixed"]:
            U, a, lr = _armijo_step(run.data, U, a, gU, ga, state["lr"] * 2.0)
            state["lr"] = lr
            return U, a
        return U - state["lr"] * gU, a - state["lr"] * ga


@register
class Adam(_NetworkBaseline):
    """Adam (Kingma & Ba 2015) on the network. Options: width, batch_size (n), epochs (2000), lr (1e-2), seed."""

    name = "adam"
    description = "Adam on the non-convex two-layer network"

    def init_state(self, run: _Run, U: Array, a: Array, gU: Array, ga: Array) -> dict:
        xp = namespace(U, a)
        return {
            "t": 0,
            "mU": xp.zeros_like(U),
            "vU": xp.zeros_like(U),
            "ma": xp.zeros_like(a),
            "va": xp.zeros_like(a),
            "lr": 1e-2 if self.option("lr") is None else self.option("lr"),
        }

    def step(
        self, run: _Run, U: Array, a: Array, idx: np.ndarray | None, scale: float, state: dict
    ) -> tuple[Array, Array]:
        b1, b2, eps = 0.9, 0.999, 1e-8
        xp = namespace(U, a)
        gU, ga = self.batch_gradient(run, U, a, idx, scale)
        state["t"] += 1
        t = state["t"]
        out = []
        for p, g, mk, vk in ((U, gU, "mU", "vU"), (a, ga, "ma", "va")):
            state[mk] = b1 * state[mk] + (1 - b1) * g
            state[vk] = b2 * state[vk] + (1 - b2) * g * g
            mhat = state[mk] / (1 - b1**t)
            vhat = state[vk] / (1 - b2**t)
            out.append(p - state["lr"] * mhat / (xp.sqrt(vhat) + eps))
        return out[0], out[1]
