"""Command line: ``relubench solvers | datasets | solve | sweep | report | asv-offline``.

Bad input is reported as one line on stderr (``relubench: error: ...``) with exit code 2, and nothing is
written. Solver outcomes (including failures and unavailable backends) are results, reported with status.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from relubench import __version__
from relubench.errors import ReluBenchError

if TYPE_CHECKING:
    from relubench.result import TracePoint


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        sys.stderr.write(f"relubench: error: {message}\n")
        raise SystemExit(2)


def _finite_float(text: str, positive: bool) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(v) and (v > 0 if positive else v >= 0)):
        raise argparse.ArgumentTypeError(f"must be a finite number {'>' if positive else '>='} 0, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    return _finite_float(text, positive=True)


def _nonnegative_float(text: str) -> float:
    return _finite_float(text, positive=False)


def _progress_printer(
    name: str, formulation: str, ref: float | None, every: float
) -> Callable[[TracePoint], bool] | None:
    """A solve callback printing one stderr line per trace point, at most every ``every`` seconds.

    Backends report trace points as they go (first-order methods at each residual check) or once at the end
    (interior point, SCS: the returned point's own objective and violation).
    """
    from relubench.reference import relative_gap

    if every <= 0:
        return None
    last = -math.inf

    def show(p: TracePoint) -> bool:
        nonlocal last
        if p.seconds - last >= every:
            last = p.seconds
            gap = "" if ref is None else f"  gap {relative_gap(p.objective, ref):.2e}"
            viol = f"  violation {p.max_violation:.2e}" if formulation == "relu" else ""
            print(
                f"  {name}: {p.seconds:8.1f} s  objective {p.objective:.10g}{gap}{viol}",
                file=sys.stderr,
                flush=True,
            )
        return False

    return show


def _patterns(text: str) -> int | str:
    if text == "all":
        return text
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer or 'all', got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="relubench",
        description="Benchmark solvers for training two-layer ReLU networks to "
        "global optimality through convex programs.",
    )
    p.add_argument("--version", action="version", version=f"relubench {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("solvers", help="list every backend with its availability")
    sub.add_parser("datasets", help="list the built-in datasets")
    sw = sub.add_parser(
        "sweep", help="run a sweep config: solver grid and seed experiments (cases isolated in processes; resumable)"
    )
    sw.add_argument(
        "config", help="sweep TOML file (see configs/quick.toml, relubench/sweep.py, relubench/experiments.py)"
    )
    sw.add_argument("-o", "--output", help="results table (.parquet); default results/NAME.parquet")
    sw.add_argument("-j", "--jobs", type=int, default=1, help="cases run at once on this machine (default 1)")
    sw.add_argument("--scheduler", help="dask.distributed scheduler address, e.g. tcp://HOST:8786")
    sw.add_argument("--rerun-failed", action="store_true", help="retry cases whose status is a failure")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    rp = sub.add_parser("report", help="write a static HTML comparison report from a results table")
    rp.add_argument(
        "results", nargs="?", help="results table (.parquet) written by `relubench sweep` (default: newest in results/)"
    )
    rp.add_argument("-o", "--output", help="output folder (default reports/NAME/)")
    off = sub.add_parser("asv-offline", help="make `asv publish` HTML render without network (vendored assets)")
    off.add_argument("html_dir", nargs="?", default="reports/asv", help="asv html_dir (default reports/asv)")

    s = sub.add_parser(
        "solve",
        help="solve one problem with one or more backends",
        description="Objective (unscaled): 1/2 ||r||^2 + beta * penalty; scnn's lambda = beta / n.",
    )
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="built-in dataset name (see `relubench datasets`)")
    src.add_argument("--data", help="CSV (header, numeric, target column) or NPZ file (X, y, optional masks D)")
    s.add_argument("--target", default="y", help="target column of a CSV file (default: y)")
    s.add_argument("--n", type=int, help="number of training rows (gaussian: generated; others: subsample)")
    s.add_argument("--d", type=int, help="number of features (gaussian only)")
    s.add_argument("--seed", type=int, default=0, help="seed of data, split and pattern sampling (default 0)")
    s.add_argument("--beta", type=_positive_float, default=1e-2, help="weight decay beta > 0 (default 0.01)")
    s.add_argument("--bias", action="store_true", help="append a column of ones to X before drawing patterns")
    s.add_argument(
        "--patterns",
        type=_patterns,
        default=100,
        help="number P of distinct sampled patterns, or 'all' to enumerate (small d); default 100",
    )
    s.add_argument(
        "--formulation",
        choices=("relu", "gated", "nonconvex"),
        default="relu",
        help="relu: constrained convex program; gated: group lasso relaxation; nonconvex: the network itself "
        "(sgd, adam; gap against the relu optimum). Default relu",
    )
    s.add_argument(
        "--solver", default="clarabel", help="backend name, a comma-separated list, or 'all' (default clarabel)"
    )
    s.add_argument("--tol", type=_positive_float, default=1e-6, help="solver tolerance (default 1e-6)")
    s.add_argument("--time-limit", type=_positive_float, help="seconds per solve")
    s.add_argument(
        "--progress",
        type=_nonnegative_float,
        default=5.0,
        metavar="SECONDS",
        help="while a backend that reports its iterates runs, print its objective (and gap, with a reference) "
        "and constraint violation to stderr at most every SECONDS (default 5; 0 = never)",
    )
    s.add_argument(
        "--reference",
        nargs="?",
        const="compute",
        default=None,
        metavar="VALUE",
        help="report relative_gap: with no value, compute (and cache) a high-accuracy reference "
        "optimum; with a number, use it as f*. Without the flag a cached reference is used if any",
    )
    s.add_argument(
        "--json", action="store_true", help="print one JSON object per solver (JSON Lines) instead of a table"
    )
    return p


def _load_problem(args: argparse.Namespace) -> tuple[Any, Any]:
    from relubench.datasets import load_dataset
    from relubench.datasets.files import load_file
    from relubench.problem import Problem

    if args.data:
        ds = load_file(args.data, target=args.target, seed=args.seed, n=args.n)
        if args.d is not None:
            raise ReluBenchError("--d applies only to the gaussian dataset")
        patterns = ds.masks if ds.masks is not None else args.patterns
    else:
        if args.dataset == "file":
            raise ReluBenchError("use --data FILE for user files")
        ds = load_dataset(args.dataset, n=args.n, d=args.d, seed=args.seed)
        patterns = args.patterns
    problem = Problem.create(
        ds.X_train, ds.y_train, args.beta, patterns=patterns, seed=args.seed, bias=args.bias, name=ds.name
    )
    return problem, ds


def _reference_value(args: argparse.Namespace, problem: Any) -> float | None:
    from relubench.reference import cached_reference, reference_optimum

    if args.reference is None:
        ref = cached_reference(problem, args.formulation)
        return None if ref is None else ref.value
    if args.reference == "compute":
        print(f"computing reference optimum ({problem.describe()}) ...", file=sys.stderr, flush=True)
        return reference_optimum(problem, args.formulation).value
    try:
        return float(args.reference)
    except ValueError:
        raise ReluBenchError(f"--reference takes a number or no value, got {args.reference!r}") from None


def cmd_solve(args: argparse.Namespace) -> int:
    from relubench.reference import relative_gap
    from relubench.registry import get_solver, solver_class, solver_names

    names = solver_names() if args.solver == "all" else [s.strip() for s in args.solver.split(",") if s.strip()]
    if not names:
        raise ReluBenchError("--solver is empty")
    classes = [solver_class(n) for n in names]  # unknown names fail before any work
    if args.solver == "all":
        classes = [c for c in classes if args.formulation in c.formulations]
    else:
        for c in classes:
            if args.formulation not in c.formulations:
                raise ReluBenchError(f"solver {c.name!r} does not solve the {args.formulation!r} formulation")
    problem, _ = _load_problem(args)
    ref = _reference_value(args, problem)
    rows = []
    for cls in classes:
        print(f"solving {problem.describe()} with {cls.name} ...", file=sys.stderr, flush=True)
        show = _progress_printer(cls.name, args.formulation, ref, args.progress)
        res = get_solver(cls.name).solve(
            problem, args.formulation, tol=args.tol, time_limit=args.time_limit, callback=show
        )
        if ref is not None and math.isfinite(res.objective):
            res.reference = ref
            res.relative_gap = relative_gap(res.objective, ref)
        row = {
            "solver": res.solver,
            "formulation": res.formulation,
            **res.summary(),
            "relative_gap": res.relative_gap,
            "reference": res.reference,
            "problem": {
                "name": problem.name,
                "n": problem.n,
                "d": problem.d,
                "P": problem.P,
                "beta": problem.beta,
                "bias": problem.bias,
                "patterns": problem.pattern_spec,
            },
        }
        rows.append(row)
        if args.json:
            print(
                json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}),
                flush=True,
            )
    if not args.json:
        _print_table(rows)
    return 0


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}" if math.isfinite(v) else str(v)
    return str(v)


def _print_aligned(table: list[list[str]]) -> None:
    """Print rows of strings as left-aligned columns separated by two spaces."""
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _print_table(rows: list[dict[str, Any]]) -> None:
    cols = ["solver", "status", "objective", "relative_gap", "max_violation", "iterations", "setup_s", "solve_s"]
    _print_aligned([cols] + [[_fmt(r[c]) for c in cols] for r in rows])
    for r in rows:
        if r["status"] not in ("optimal",):
            print(f"{r['solver']}: {r['message']}")


def cmd_solvers(args: argparse.Namespace) -> int:
    from relubench.registry import solver_class, solver_names

    rows = [["name", "family", "formulations", "available", "reason"]]
    for name in solver_names():
        cls = solver_class(name)
        ok, why = cls.available()
        rows.append([name, cls.family, ",".join(cls.formulations), "yes" if ok else "no", why])
    _print_aligned(rows)
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from relubench.datasets import _LOADERS, dataset_names

    for name in dataset_names():
        doc = (_LOADERS[name].__doc__ or "").strip().splitlines()
        print(f"{name:15s} {doc[0] if doc else ''}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from relubench.sweep import load_config, run_sweep

    if args.jobs < 1:
        raise ReluBenchError(f"--jobs must be >= 1, got {args.jobs}")
    config = load_config(args.config)
    out = args.output or f"results/{config.name}.parquet"
    print(f"sweep {config.name}: {len(config.cases)} cases -> {out}", file=sys.stderr)
    counts = run_sweep(
        config,
        out,
        jobs=args.jobs,
        rerun_failed=args.rerun_failed,
        scheduler=args.scheduler,
        progress=not args.no_progress,
    )
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relubench.report import write_report

    if args.results is None:
        tables = sorted(Path("results").glob("*.parquet"), key=lambda f: f.stat().st_mtime)
        if not tables:
            raise ReluBenchError("no results table given and none in results/ (run `relubench sweep CONFIG` first)")
        src = tables[-1]
        print(f"reporting the newest results table: {src}", file=sys.stderr)
    else:
        src = Path(args.results)
    if not src.is_file():
        raise ReluBenchError(f"results table not found: {src}")
    out = Path(args.output or f"reports/{src.stem}")
    page = write_report(src, out)
    print(f"report: {page}")
    return 0


def cmd_asv_offline(args: argparse.Namespace) -> int:
    from relubench.asv_offline import make_offline

    changed = make_offline(args.html_dir)
    print(f"vendored assets into {args.html_dir}/vendor; rewrote {len(changed)} page(s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "solve": cmd_solve,
        "solvers": cmd_solvers,
        "datasets": cmd_datasets,
        "sweep": cmd_sweep,
        "report": cmd_report,
        "asv-offline": cmd_asv_offline,
    }
    handler = handlers[args.command]
    try:
        return handler(args)
    except ReluBenchError as exc:
        sys.stderr.write(f"relubench: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("relubench: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
