"""Typed solver options: declared with defaults and accepted values, refused before any work (at config load, with
the file and the key), listed by `relubench solvers --options`; per-solve state lives in what setup() returns."""

import json

import numpy as np
import pytest

from conftest import small_problem
from relubench.bench.config import load_config
from relubench.cli import main
from relubench.errors import InputError
from relubench.running.solver import Option, get_solver, solver_class, solver_names


def out_of_range(opt: Option):
    """A value of the option's type that it does not accept (None when it accepts every value of its type)."""
    if opt.choices is not None:
        return "no-such-choice"
    if opt.low is not None:
        return opt.kind(opt.low) if opt.low_open else opt.kind(opt.low) - 1
    if opt.high is not None:
        return opt.kind(opt.high) if opt.high_open else opt.kind(opt.high) + 1
    return None


BOUNDED = [
    (name, key)
    for name in solver_names()
    for key, opt in sorted(solver_class(name).capabilities.options.items())
    if out_of_range(opt) is not None
]


def test_every_backend_declares_typed_options_with_defaults_of_their_type():
    for name in solver_names():
        for key, opt in solver_class(name).capabilities.options.items():
            assert isinstance(opt, Option), (name, key)
            if opt.default is not None:
                assert opt.check(name, key, opt.default) == opt.default, (name, key)  # the default is accepted
    assert ("admm", "relaxation") in BOUNDED and ("ipm", "proximal") in BOUNDED and len(BOUNDED) >= 20


@pytest.mark.parametrize("name,key", BOUNDED)
def test_an_out_of_range_option_is_refused_at_config_load_with_file_and_key(tmp_path, name, key):
    bad = out_of_range(solver_class(name).capabilities.options[key])
    value = json.dumps(bad)  # a TOML literal for ints, floats and strings alike
    path = tmp_path / "c.toml"
    forms = json.dumps(list(solver_class(name).capabilities.formulations))
    path.write_text(
        f'name = "t"\nsolvers = ["{name}"]\nformulations = {forms}\n'
        f'[solver_options.{name}]\n{key} = {value}\n'
        '[[datasets]]\nname = "gaussian"\nsizes = [[20, 2, 4]]\nbeta = 0.1\n'
    )
    with pytest.raises(InputError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg and f"solver_options.{name}" in msg and repr(key) in msg, msg


def test_in_range_values_pass_and_defaults_apply():
    admm = get_solver("admm", relaxation=1.2)
    assert admm.option("relaxation") == 1.2 and admm.option("gamma") == 1.0 and admm.option("rho") is None
    with pytest.raises(InputError, match="option 'relaxation' must be > 0 and < 2, got 2.0"):
        get_solver("admm", relaxation=2.0)
    with pytest.raises(InputError, match="option 'max_iter' must be int"):
        get_solver("admm", max_iter=1.5)


def test_solvers_options_lists_one_backend(capsys):
    assert main(["solvers", "--options", "admm", "--json"]) == 0
    rows = {r["option"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["relaxation"] == {
        "option": "relaxation", "type": "float", "default": 1.6, "accepts": "> 0 and < 2", "what": "over-relaxation"
    }  # fmt: skip
    assert rows["rho"]["default"] is None and "precision" in rows
    assert main(["solvers", "--options", "nope"]) == 2
    assert capsys.readouterr().err.startswith("relubench: error: unknown solver 'nope'")


def test_two_setups_on_one_instance_keep_their_own_state():
    """Per-solve state (the warm start, the ADMM penalty's start) lives in what setup() returns: a second setup on
    the same instance does not change what the first prepared."""
    problem = small_problem(n=40, d=3, P=8, beta=0.1, seed=3)
    other = small_problem(n=30, d=3, P=6, beta=0.2, seed=4)
    fista = get_solver("fista", max_iter=500)
    cold = fista.solve(problem, "gated", tol=1e-6)
    warm_from = {"U": np.ones((problem.d, problem.groups))}
    p_cold = fista.setup(problem, "gated", tol=1e-6)
    p_warm = fista.setup(problem, "gated", tol=1e-6, init=warm_from)
    first = fista.solve(problem, "gated", tol=1e-6, prepared=p_cold)
    second = fista.solve(problem, "gated", tol=1e-6, prepared=p_warm)
    alone = get_solver("fista", max_iter=500).solve(problem, "gated", tol=1e-6, init=warm_from)
    start = [r.trace[0].objective for r in (cold, first, alone, second)]  # the objective where each solve began
    assert start[0] == start[1] and start[2] == start[3] and start[1] != start[3]
    assert first.iterations == cold.iterations and second.iterations == alone.iterations
    # the baselines kept the problem's arrays on the solver: a second setup made the first solve use other data
    for name, form in (("sgd", "nonconvex"), ("admm", "relu")):
        opts = {"sgd": {"width": 3, "epochs": 40}, "admm": {"max_iter": 300}}[name]
        solver = get_solver(name, **opts)
        p1, p2 = solver.setup(problem, form, tol=1e-8), solver.setup(other, form, tol=1e-8)
        r2, r1 = solver.solve(other, form, tol=1e-8, prepared=p2), solver.solve(problem, form, tol=1e-8, prepared=p1)
        for res, prob in ((r1, problem), (r2, other)):
            fresh = get_solver(name, **opts).solve(prob, form, tol=1e-8)
            assert res.objective == fresh.objective and res.iterations == fresh.iterations, name
