"""The subcommands: each takes the parsed arguments and returns an exit code (errors raise ReluBenchError)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

from relubench.atomic import check_output_file
from relubench.bench.config import load_config
from relubench.bench.schema import SAFE_NAME
from relubench.bench.store import ResultStore
from relubench.bench.sweep import run_sweep
from relubench.cli.output import print_aligned, print_table, progress_printer, strict_json
from relubench.datasets import Dataset, dataset_info, dataset_names, load_dataset
from relubench.datasets.files import load_file, with_test_file
from relubench.datasets.keel import keel_notes
from relubench.datasets.network_files import load_network, save_network
from relubench.errors import ReluBenchError
from relubench.present.asv_offline import drop_unmeasured, make_offline, unmeasured
from relubench.present.figures import write_path_figure
from relubench.present.report import write_report
from relubench.present.site import site_contents, write_site_index
from relubench.problem.formulations import get_formulation
from relubench.problem.instance import Problem, with_bias_column
from relubench.problem.spec import ProblemClass
from relubench.running.device import check_placement, cuda_status
from relubench.running.measure import attack_report, measure
from relubench.running.path import PathPoint, path_betas, solve_path
from relubench.running.reference import cached_reference, gap_floor, reference_optimum
from relubench.running.solver import Solver, get_solver, reference_solvers, solver_class, solver_names, solvers_for


def _load_data(args: argparse.Namespace) -> Dataset:
    if args.test is not None and args.test_fraction:
        raise ReluBenchError("--test and --test-fraction both choose held-out rows: give one")
    fraction = 0.0 if args.test is not None else args.test_fraction
    split = {} if fraction is None else {"test_fraction": fraction}
    if args.data:
        if args.d is not None or args.labels is not None or args.multiclass:
            raise ReluBenchError("--d, --labels and --multiclass do not apply to --data files")
        ds = load_file(args.data, target=args.target, seed=args.seed, n=args.n, **split)
    else:
        if args.dataset == "file":
            raise ReluBenchError("use --data FILE for user files")
        extra: dict[str, Any] = {} if args.labels is None else {"labels": args.labels}
        if extra and args.dataset != "gaussian":
            raise ReluBenchError("--labels applies only to the gaussian dataset")
        if args.multiclass:
            extra["multiclass"] = True
        ds = load_dataset(args.dataset, n=args.n, d=args.d, seed=args.seed, **split, **extra)
    if args.test is not None:
        ds = with_test_file(ds, args.test, target=args.target)
    return ds


def _load_problem(args: argparse.Namespace) -> tuple[Problem, Dataset]:
    ds = _load_data(args)
    patterns = ds.masks if ds.masks is not None else args.patterns
    problem = Problem.create(
        ds.X_train,
        ds.y_train,
        args.beta,
        patterns=patterns,
        seed=args.seed,
        bias=args.bias,
        name=ds.name,
        loss=args.loss,
        epsilon=args.epsilon,
    )
    return problem, ds


def _reference_value(args: argparse.Namespace, problem: Any) -> float | None:
    if args.reference is None:
        ref = cached_reference(problem, args.formulation)
        return None if ref is None else ref.value
    if args.reference == "compute":
        print(f"computing reference optimum ({problem.describe()}) ...", file=sys.stderr, flush=True)
        return reference_optimum(problem, args.formulation).value
    try:
        value = float(args.reference)
    except ValueError:
        raise ReluBenchError(f"--reference takes a number or no value, got {args.reference!r}") from None
    if not math.isfinite(value):
        raise ReluBenchError(f"--reference must be a finite number, got {args.reference!r}")
    return value


def _usable(classes: list[Any], wanted: ProblemClass, every: bool) -> list[Any]:
    """The backends that solve ``wanted``: with ``every`` (--solver all) the others are dropped, else refused."""
    if every:
        return [c for c in classes if c.capabilities.why_not(wanted) is None]
    for c in classes:
        why = c.capabilities.why_not(wanted)
        if why is not None:
            raise ReluBenchError(f"solver {c.name!r}: {why}")
    return classes


def _placed(args: argparse.Namespace) -> bool:
    """Whether --device/--precision ask for anything but the CPU default (numpy, double precision)."""
    return args.device != "cpu" or args.precision not in (None, "double")


def _device_options(cls: type[Solver], args: argparse.Namespace) -> dict[str, Any]:
    """The solver options of --device and --precision for ``cls`` (ReluBenchError where it cannot honour them)."""
    if len(cls.capabilities.devices) > 1:
        opts = {"device": args.device} | ({} if args.precision is None else {"precision": args.precision})
        check_placement(opts, cls.capabilities.devices, cls.capabilities.precisions)  # before any data is read
        return opts
    if _placed(args):
        raise ReluBenchError(
            f"solver {cls.name!r} runs on the cpu in double precision only (--device/--precision apply to: "
            f"{', '.join(n for n in solver_names() if len(solver_class(n).capabilities.devices) > 1)})"
        )
    return {}


def _runs_there(cls: type[Solver], args: argparse.Namespace) -> bool:
    """Whether ``cls`` runs on --device at --precision (admm has no single precision of its own)."""
    caps = cls.capabilities
    return args.device in caps.devices and (args.precision is None or args.precision in caps.precisions)


def cmd_solve(args: argparse.Namespace) -> int:
    if args.solver is None:
        default_for = ProblemClass(args.formulation, args.loss)
        if _placed(args):  # the first backend that runs there
            cands = [c for c in solvers_for(default_for) if _runs_there(c, args)]
            cands.sort(key=lambda c: c.capabilities.max_rows is not None)  # one that scales first (not admm)
            names = [c.name for c in cands if len(c.capabilities.devices) > 1][:1]
        else:
            names = [c.name for c in reference_solvers(default_for) if c.available()[0]][:1]
        if not names:
            raise ReluBenchError(
                f"no default backend for the {args.formulation} formulation on {args.device}: name one with --solver"
            )
    elif args.solver == "all":
        names = solver_names()
        if _placed(args):
            names = [n for n in names if _runs_there(solver_class(n), args)]
            names = [n for n in names if len(solver_class(n).capabilities.devices) > 1]
    else:
        names = [s.strip() for s in args.solver.split(",") if s.strip()]
    if not names:
        raise ReluBenchError("--solver is empty")
    if args.save_network and len(names) != 1:
        raise ReluBenchError("--save-network saves the network of one solver: name exactly one with --solver")
    if args.save_network:  # checked before any work: a long solve is not thrown away for a bad path
        check_output_file(args.save_network, ".npz", "--save-network")
    classes = [solver_class(n) for n in names]  # unknown names fail before any work
    placed = {c.name: _device_options(c, args) for c in classes}  # before the data are read
    every = args.solver == "all"
    classes = _usable(classes, ProblemClass(args.formulation, args.loss), every)  # before the data are read
    problem, ds = _load_problem(args)
    classes = _usable(classes, problem.problem_class(args.formulation), every)  # with the data's outputs
    if not classes:
        raise ReluBenchError(f"no backend solves {problem.problem_class(args.formulation).describe()}")
    ref = _reference_value(args, problem)
    rows = []
    for cls in classes:
        print(f"solving {problem.describe()} with {cls.name} ...", file=sys.stderr, flush=True)
        show = progress_printer(cls.name, args.formulation, ref, args.progress, gap_floor(problem.y))
        res = get_solver(cls.name, **placed[cls.name]).solve(
            problem, args.formulation, tol=args.tol, time_limit=args.time_limit, callback=show
        )
        row = measure(problem, ds, res, ref)
        if res.weights is not None:
            U, a = get_formulation(res.formulation).network(res.weights, problem.outputs)
        rows.append(row)
        if args.save_network:
            if res.weights is None:
                raise ReluBenchError(f"{res.solver} returned no weights ({res.status}): no network saved")
            save_network(args.save_network, U, a, problem.bias)
        if args.json:
            print(strict_json(row), flush=True)
    if not args.json:
        print_table(rows)
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    name = "al" if args.formulation == "relu" and args.solver == "fista" else args.solver
    cls = solver_class(name)
    _usable([cls], ProblemClass(args.formulation, args.loss), False)
    betas = path_betas(args.betas)
    if args.figure is not None:
        check_output_file(args.figure, ".png", "--figure")
    args.beta = betas[0]
    args.epsilon = 0.0
    problem, ds = _load_problem(args)
    _usable([cls], problem.problem_class(args.formulation), False)
    print(
        f"path of {len(betas)} betas on {problem.describe()} with {cls.name}"
        f"{'' if cls.capabilities.warm_start and not args.no_warm_start else ' (cold starts)'} ...",
        file=sys.stderr,
        flush=True,
    )
    rows: list[dict[str, Any]] = []

    def report(point: PathPoint) -> None:
        res = point.result
        pb = dataclasses.replace(problem, beta=point.beta)
        row = {**measure(pb, ds, res, attacks=False), "seconds": point.seconds, "warm_start": point.warm}
        rows.append(row)
        if args.json:
            print(strict_json(row), flush=True)
        else:
            key = next((k for k in ("test_accuracy", "test_loss") if row.get(k) is not None), None)
            shown = "" if key is None else f"  held-out {key[5:]} {row[key]:.4g}"
            print(
                f"beta {point.beta:<10.4g} {res.status:<11} objective {res.objective:<12.6g} neurons "
                f"{res.active_neurons:<5d} {point.seconds:8.3f} s{' warm' if point.warm else ''}{shown}",
                flush=True,
            )

    solver = get_solver(cls.name, **_device_options(cls, args))
    _, total = solve_path(
        problem, solver, args.formulation, betas, args.tol, args.time_limit, not args.no_warm_start, report
    )
    summary = {"path_seconds": total, "points": len(rows), "solver": cls.name, "formulation": args.formulation}
    if args.json:
        print(strict_json(summary), flush=True)
    else:
        print(f"path: {len(rows)} points in {total:.3f} s ({cls.name}, {args.formulation})")
    if args.figure is not None:
        write_path_figure(rows, args.figure, f"{problem.name}: {cls.name}, {args.formulation}, {problem.loss} loss")
    return 0


def cmd_attack(args: argparse.Namespace) -> int:
    U, a, bias = load_network(args.network)
    ds = _load_data(args)
    if bias != args.bias:
        raise ReluBenchError(f"{args.network}: the network was trained {'with' if bias else 'without'} --bias")
    X, y = (ds.X_test, ds.y_test) if ds.X_test.shape[0] else (ds.X_train, ds.y_train)
    if bias:
        X = with_bias_column(X)
    if X.shape[1] != U.shape[0]:
        raise ReluBenchError(f"{args.network}: the network takes d = {U.shape[0]} inputs, the data have {X.shape[1]}")
    out: dict[str, Any] = {"points": int(X.shape[0]), "rows": "held-out" if ds.X_test.shape[0] else "training"}
    out.update(attack_report(X, y, U, a, bias, args.epsilon, args.norm, args.steps))
    if args.json:
        print(strict_json(out))
        return 0
    print(f"{out['points']} {out['rows']} points; one-step attack size / (||x|| / sqrt(d)):")
    print("  " + "  ".join(f"{k} {v:.3g}" for k, v in out["one_step_quantiles"].items()))
    print(
        f"  no sign change within 1e4 ||x|| / sqrt(d): {out['one_step_no_flip']}; already misclassified: "
        f"{out['already_wrong']}"
    )
    if "clean_accuracy" in out:
        print(f"clean accuracy {out['clean_accuracy']:.4f}")
    if "pgd_robust_accuracy" in out:
        print(
            f"PGD ({args.norm}, eps {args.epsilon:g}, {args.steps} steps x 3 restarts) robust accuracy "
            f"{out['pgd_robust_accuracy']:.4f}"
        )
    return 0


def _options_of(name: str) -> list[dict[str, Any]]:
    return [
        {"option": key, "type": o.kind.__name__, "default": o.default, "accepts": o.accepted(), "what": o.doc}
        for key, o in sorted(solver_class(name).capabilities.options.items())
    ]


def cmd_solvers(args: argparse.Namespace) -> int:
    if args.options is not None:
        rows = _options_of(args.options)  # an unknown name is refused with the known ones
        if args.json:
            print(json.dumps(rows, indent=1))
        elif rows:
            cols = ["option", "type", "default", "accepts", "what"]
            shown = [{**r, "default": "auto" if r["default"] is None else r["default"]} for r in rows]
            print_aligned([cols] + [[_cell(r[c]) for c in cols] for r in shown])
            print("\nauto: the backend chooses from the problem (see 'what')")
        else:
            print(f"{args.options} takes no options")
        return 0
    rows = []
    for name in solver_names():
        cls = solver_class(name)
        caps = cls.capabilities
        ok, why = cls.available()
        rows.append(
            {
                "name": name,
                "family": cls.family,
                "formulations": list(caps.formulations),
                "losses": list(caps.losses),
                "outputs": "any" if caps.max_outputs is None else caps.max_outputs,
                "devices": list(caps.devices),
                "certified_gap": bool(caps.certified_gap),
                "available": bool(ok),
                "reason": why,
            }
        )
    visible, what = cuda_status()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    cols = ["name", "family", "formulations", "losses", "outputs", "devices", "certified_gap", "available", "reason"]
    print_aligned([[c.replace("_", " ") for c in cols]] + [[_cell(r[c]) for c in cols] for r in rows])
    print(f"\nGPU: {what}" if visible else f"\nGPU: none visible here ({what}): cuda runs report 'unavailable'")
    return 0


def _cell(value: object) -> str:
    """A table cell: lists comma-joined, booleans yes/no, None as '-'."""
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None else str(value)


def cmd_datasets(args: argparse.Namespace) -> int:
    rows = [dataset_info(name).as_dict(name) for name in dataset_names()]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    cols = ["name", "task", "rows", "features", "classes", "source", "licence"]
    print_aligned([cols] + [[_cell(r[c]) for c in cols] for r in rows])
    print("\nrows, features: '-' where --n/--d choose them; classes: '-' for regression (one output per target).")
    for note in keel_notes():
        print(f"note: {note}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    out = args.output or f"results/{config.name}.parquet"
    ResultStore(out).load()  # a path that is no table, or a damaged table: refused before anything runs
    counts = run_sweep(
        config,
        out,
        jobs=args.jobs,
        rerun_failed=args.rerun_failed,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        announce=f"sweep {config.name}: {len(config.cases)} cases -> {out}",
    )
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    if args.results is None:
        tables = sorted(
            (f for f in Path("results").glob("*.parquet") if not f.name.startswith(".") and f.is_file()),
            key=lambda f: f.stat().st_mtime,
        )
        if not tables:
            raise ReluBenchError("no results table given and none in results/ (run `relubench sweep CONFIG` first)")
        src = tables[-1]
        print(f"reporting the newest results table: {src}", file=sys.stderr)
    else:
        src = Path(args.results)
    if not src.is_file():
        raise ReluBenchError(f"results table not found: {src}")
    if args.output is None and not re.fullmatch(SAFE_NAME, src.stem):
        raise ReluBenchError(f"table name {src.stem!r} is not a safe folder name: give the report folder with -o")
    out = Path(args.output or f"reports/{src.stem}")
    page = write_report(src, out)
    print(f"report: {page}")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    rows, only_table = ResultStore(args.table).recover()
    print(
        f"recovered {rows} rows into {args.table} ({only_table} only from the damaged table; it is kept as "
        f"{args.table}.damaged)"
    )
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    page = write_site_index(args.dir)
    found = site_contents(Path(args.dir))
    print(
        f"site: {page} links {len(found['asv'])} asv page, {len(found['reports'])} sweep report(s), "
        f"{len(found['figures'])} figure(s)"
    )
    return 0


def cmd_asv_offline(args: argparse.Namespace) -> int:
    unmeasured(args.html_dir)  # an index.json that is not asv's is refused before anything is written
    changed = make_offline(args.html_dir)
    print(f"vendored assets into {args.html_dir}/vendor; rewrote {len(changed)} page(s)")
    gone = drop_unmeasured(args.html_dir)
    if gone:
        print(f"left out {len(gone)} benchmark(s) without any result: {', '.join(gone)}")
    return 0
