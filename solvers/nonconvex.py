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
Status "optimal" means first-order stationarity (gradient norm <= tol times its initial value) -- a local
statement, not global optimality; otherwise "max_iter" or "time_limit".
"""

from __future__ import annotations

import time

import numpy as np

from relubench.errors import InputError, NumericalError
from relubench.problem.formulations import nonconvex_objective
from relubench.problem.instance import Problem
from relubench.problem.losses import Loss, get_loss
from relubench.running.attacks import pgd_attack
from relubench.running.reference import reference_optimum
from relubench.running.result import Callback, Result, Tracer
from relubench.running.solver import Capabilities, Solver, register


def _grad(X: np.ndarray, y: np.ndarray, U: np.ndarray, a: np.ndarray, beta: float, scale: float, loss: Loss):  # noqa: ANN202
    Z = X @ U
    H = np.maximum(Z, 0.0)
    r = loss.gradient(H @ a, y)  # d loss / d prediction (squared: the residual)
    ga = scale * (H.T @ r) + beta * a
    gU = scale * (X.T @ (np.outer(r, a) * (Z > 0))) + beta * U
    return gU, ga


class _NetworkBaseline(Solver):
    family = "baseline"
    capabilities = Capabilities(
        formulations=("nonconvex",),
        benchmark=False,
        losses=("squared", "hinge", "logistic"),
        options={
            "width": int,
            "batch_size": int,
            "epochs": int,
            "lr": float,
            "seed": int,
            "adversarial_eps": float,
            "pgd_steps": int,
        },
    )

    def width(self, problem: Problem) -> int:
        if "width" in self.options:
            m = int(self.options["width"])
            if m < 1:
                raise InputError(f"width must be >= 1, got {m}")
            return m
        return max(1, int(reference_optimum(problem, "nonconvex").active_neurons))

    def _solve(
        self, problem: Problem, formulation: str, tol: float, time_limit: float | None, callback: Callback | None
    ) -> Result:
        o = self.options
        t0 = time.perf_counter()
        m = self.width(problem)
        X, y, beta = problem.X, problem.y, problem.beta
        n, d = X.shape
        rng = np.random.default_rng(int(o.get("seed", 0)))
        U = rng.standard_normal((d, m)) / np.sqrt(d)
        a = rng.standard_normal(m) / np.sqrt(m)
        batch = int(o.get("batch_size", n))
        batch = min(max(batch, 1), n)
        epochs = int(o.get("epochs", 2000))
        setup = time.perf_counter() - t0
        tracer = Tracer(callback)
        loss = get_loss(problem.loss)
        g0U, g0a = _grad(X, y, U, a, beta, 1.0, loss)
        g0 = np.sqrt(np.sum(g0U**2) + g0a @ g0a)
        state = self.init_state(problem, U, a, g0U, g0a)
        status, epoch, gnorm = "max_iter", 0, g0
        tracer.record(nonconvex_objective(problem, U, a))
        for epoch in range(1, epochs + 1):
            if batch == n:
                U, a = self.step(problem, U, a, np.arange(n), 1.0, state)
            else:
                perm = rng.permutation(n)
                for start in range(0, n - batch + 1, batch):  # steps over mini-batches, each vectorized
                    idx = perm[start : start + batch]
                    U, a = self.step(problem, U, a, idx, n / batch, state)
            obj = nonconvex_objective(problem, U, a)
            stop = tracer.record(obj)
            if not (np.isfinite(obj) and np.isfinite(U).all() and np.isfinite(a).all()):
                raise NumericalError(
                    f"{self.name}: non-finite objective or weights after epoch {epoch} (step or data too large?)"
                )
            gU, ga = _grad(X, y, U, a, beta, 1.0, loss)
            gnorm = np.sqrt(np.sum(gU**2) + ga @ ga)
            if (gnorm <= tol * g0 and not self.adversarial) or stop:
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
            setup_s=setup,
            solve_s=tracer.elapsed(),
            weights={"U": U, "a": a},
            trace=tracer.points,
            message=f"width={m} batch={batch} epochs={epoch} grad_norm={gnorm:.3g}",
        )

    def init_state(self, problem: Problem, U: np.ndarray, a: np.ndarray, gU: np.ndarray, ga: np.ndarray) -> dict:
        return {}

    @property
    def adversarial(self) -> bool:
        return self.options.get("adversarial_eps", 0.0) > 0

    def batch_gradient(
        self, problem: Problem, U: np.ndarray, a: np.ndarray, idx: np.ndarray, scale: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient on the rows idx; with ``adversarial_eps`` on their PGD-perturbed copies (Madry et al. 2018)."""
        Xb, yb = problem.X[idx], problem.y[idx]
        if self.adversarial:
            _, Xb = pgd_attack(
                Xb,
                yb,
                U,
                a,
                float(self.options["adversarial_eps"]),
                loss=problem.loss,
                steps=int(self.options.get("pgd_steps", 10)),
                restarts=1,
                perturbable=problem.perturbable,
                seed=int(self.options.get("seed", 0)),
            )
        return _grad(Xb, yb, U, a, problem.beta, scale, get_loss(problem.loss))

    def step(
        self, problem: Problem, U: np.ndarray, a: np.ndarray, idx: np.ndarray, scale: float, state: dict
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def _armijo_step(
    problem: Problem, U: np.ndarray, a: np.ndarray, gU: np.ndarray, ga: np.ndarray, lr: float
) -> tuple[np.ndarray, np.ndarray, float]:
    f0 = nonconvex_objective(problem, U, a)
    g2 = np.sum(gU**2) + ga @ ga
    while lr > 1e-16:
        Un, an = U - lr * gU, a - lr * ga
        if nonconvex_objective(problem, Un, an) <= f0 - 0.5 * lr * g2:
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

    def init_state(self, problem: Problem, U: np.ndarray, a: np.ndarray, gU: np.ndarray, ga: np.ndarray) -> dict:
        if "lr" in self.options:
            return {"lr": float(self.options["lr"]), "fixed": True}
        _, _, lr = _armijo_step(problem, U, a, gU, ga, 1.0)
        batch = min(max(int(self.options.get("batch_size", problem.n)), 1), problem.n)
        if self.adversarial:  # the clean objective's Armijo test does not apply to perturbed batches
            return {"lr": lr * batch / problem.n, "fixed": True}
        if batch < problem.n:  # mini-batch gradients are scaled by n / batch: shrink the step alike
            return {"lr": lr * batch / problem.n, "fixed": True}
        return {"lr": lr, "fixed": False}

    def step(
        self, problem: Problem, U: np.ndarray, a: np.ndarray, idx: np.ndarray, scale: float, state: dict
    ) -> tuple[np.ndarray, np.ndarray]:
        gU, ga = self.batch_gradient(problem, U, a, idx, scale)
        if idx.size == problem.n and not state["fixed"]:
            U, a, lr = _armijo_step(problem, U, a, gU, ga, state["lr"] * 2.0)
            state["lr"] = lr
            return U, a
        return U - state["lr"] * gU, a - state["lr"] * ga


@register
class Adam(_NetworkBaseline):
    """Adam (Kingma & Ba 2015) on the network. Options: width, batch_size (n), epochs (2000), lr (1e-2), seed."""

    name = "adam"
    description = "Adam on the non-convex two-layer network"

    def init_state(self, problem: Problem, U: np.ndarray, a: np.ndarray, gU: np.ndarray, ga: np.ndarray) -> dict:
        return {
            "t": 0,
            "mU": np.zeros_like(U),
            "vU": np.zeros_like(U),
            "ma": np.zeros_like(a),
            "va": np.zeros_like(a),
            "lr": float(self.options.get("lr", 1e-2)),
        }

    def step(
        self, problem: Problem, U: np.ndarray, a: np.ndarray, idx: np.ndarray, scale: float, state: dict
    ) -> tuple[np.ndarray, np.ndarray]:
        b1, b2, eps = 0.9, 0.999, 1e-8
        gU, ga = self.batch_gradient(problem, U, a, idx, scale)
        state["t"] += 1
        t = state["t"]
        out = []
        for p, g, mk, vk in ((U, gU, "mU", "vU"), (a, ga, "ma", "va")):
            state[mk] = b1 * state[mk] + (1 - b1) * g
            state[vk] = b2 * state[vk] + (1 - b2) * g * g
            mhat = state[mk] / (1 - b1**t)
            vhat = state[vk] / (1 - b2**t)
            out.append(p - state["lr"] * mhat / (np.sqrt(vhat) + eps))
        return out[0], out[1]
