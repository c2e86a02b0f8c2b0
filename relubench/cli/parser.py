"""The argument parser of the command line: subcommands, options and their validation."""

from __future__ import annotations

import argparse
import math
import sys

from relubench import __version__
from relubench.problem.spec import FORMULATION_NAMES, LOSS_NAMES
from relubench.running.device import PRECISIONS
from relubench.running.solver import DEVICES


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


MAX_SECONDS = 1e7  # about 115 days: longer limits are typos (and overflow some solvers' timers)


def _seconds(text: str) -> float:
    v = _finite_float(text, positive=True)
    if v > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SECONDS:g} seconds, got {text!r}")
    return v


def _nonnegative_float(text: str) -> float:
    return _finite_float(text, positive=False)


def _count(text: str, minimum: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v}")
    return v


def _positive_int(text: str) -> int:
    return _count(text, 1)


def _nonnegative_int(text: str) -> int:
    return _count(text, 0)


def _fraction(text: str) -> float:
    v = _finite_float(text, positive=False)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return v


def _betas(text: str) -> list[float]:
    parts = [t.strip() for t in text.split(",")]
    if not parts or any(not t for t in parts):
        raise argparse.ArgumentTypeError(f"a comma-separated list of numbers > 0 is needed, got {text!r}")
    return [_positive_float(t) for t in parts]


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

    so = sub.add_parser("solvers", help="list every backend with its capabilities and availability")
    so.add_argument("--json", action="store_true", help="one JSON array of objects instead of the table")
    so.add_argument("--options", metavar="NAME", help="the options of one backend: type, default, accepted values")
    ds = sub.add_parser("datasets", help="list the built-in datasets: task, size, classes, source, licence")
    ds.add_argument("--json", action="store_true", help="one JSON array of objects instead of the table")
    sw = sub.add_parser(
        "sweep", help="run a sweep config: solver grid and seed experiments (cases isolated in processes; resumable)"
    )
    sw.add_argument(
        "config", help="sweep TOML file (see configs/quick.toml, relubench/bench/config.py, relubench/experiments/)"
    )
    sw.add_argument("-o", "--output", help="results table (.parquet); default results/NAME.parquet")
    sw.add_argument("-j", "--jobs", type=_positive_int, default=1, help="cases run at once on this machine (default 1)")
    sw.add_argument(
        "--scheduler",
        help="dask.distributed scheduler address, e.g. tcp://HOST:8786, or 'local' (a LocalCluster of -j workers)",
    )
    sw.add_argument("--rerun-failed", action="store_true", help="retry cases whose status is a failure")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    rp = sub.add_parser("report", help="write a static HTML comparison report from a results table")
    rp.add_argument(
        "results", nargs="?", help="results table (.parquet) written by `relubench sweep` (default: newest in results/)"
    )
    rp.add_argument("-o", "--output", help="output folder (default reports/NAME/)")
    rc = sub.add_parser("recover", help="rebuild a damaged results table from its journal and its readable rows")
    rc.add_argument("table", help="results table (.parquet) written by `relubench sweep`")
    pub = sub.add_parser(
        "publish", help="write DIR/index.html: one site linking the asv pages, the sweep reports and figures in DIR"
    )
    pub.add_argument("dir", nargs="?", default="reports", help="the reports folder (default reports)")
    off = sub.add_parser("asv-offline", help="make `asv publish` HTML render without network (vendored assets)")
    off.add_argument("html_dir", nargs="?", default="reports/asv", help="asv html_dir (default reports/asv)")

    s = sub.add_parser(
        "solve",
        help="solve one problem with one or more backends",
        description="Objective (unscaled): loss + beta * penalty, the loss summed over rows (squared: 1/2 ||r||^2); "
        "scnn's lambda = beta / n. Prints train objective, gap and held-out metrics of the mapped network.",
    )
    _data_arguments(s)
    s.add_argument("--beta", type=_positive_float, default=1e-2, help="weight decay beta > 0 (default 0.01)")
    s.add_argument(
        "--patterns",
        type=_patterns,
        default=100,
        help="number P of distinct sampled patterns, or 'all' to enumerate (small d); default 100",
    )
    s.add_argument(
        "--formulation",
        choices=FORMULATION_NAMES,
        default="relu",
        help="relu: constrained convex program; gated: group lasso relaxation; nonconvex: the network itself "
        "(sgd, adam; gap against the relu optimum). Default relu",
    )
    s.add_argument(
        "--solver",
        help="backend name, a comma-separated list, or 'all' (default: the first available backend that computes "
        "reference optima, i.e. clarabel without a MOSEK licence)",
    )
    s.add_argument("--tol", type=_positive_float, default=1e-6, help="solver tolerance (default 1e-6)")
    s.add_argument("--time-limit", type=_seconds, help="seconds per solve")
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
        "--loss",
        choices=LOSS_NAMES,
        default="squared",
        help="squared: 1/2 ||pred - y||^2; hinge: sum max(0, 1 - y pred); logistic: sum log(1 + exp(-y pred)); "
        "hinge and logistic need labels in {-1, +1} (default squared)",
    )
    s.add_argument(
        "--epsilon",
        type=_nonnegative_float,
        default=0.0,
        help="l_inf radius the robust formulation trains against (the bias column is never perturbed; default 0)",
    )
    s.add_argument(
        "--save-network",
        metavar="FILE.npz",
        help="write the trained network (arrays U (d x m), a (m), bias) of the one solver run to FILE.npz",
    )
    _device_arguments(s)
    s.add_argument(
        "--json", action="store_true", help="print one JSON object per solver (JSON Lines) instead of a table"
    )

    pa = sub.add_parser(
        "path",
        help="solve along a decreasing grid of beta, warm-started, timing each point and the whole path",
        description="A regularization path: the same patterns at every beta (largest first); backends that "
        "accept warm starts (fista, al) start each point from the previous solution. Prints per point the "
        "objective, violation, active neurons, seconds and the held-out metrics of the trained model.",
    )
    _data_arguments(pa)
    pa.add_argument(
        "--betas", required=True, type=_betas, help="comma-separated weight decays, e.g. 10,3,1,0.3,0.1 (any order)"
    )
    pa.add_argument("--patterns", type=_patterns, default=100, help="P sampled patterns or 'all' (default 100)")
    pa.add_argument("--formulation", choices=("relu", "gated"), default="gated", help="default gated")
    pa.add_argument("--solver", default="fista", help="one backend (default fista; al for relu)")
    pa.add_argument("--loss", choices=LOSS_NAMES, default="squared", help="as for solve (default squared)")
    pa.add_argument("--tol", type=_positive_float, default=1e-6, help="solver tolerance at each point (default 1e-6)")
    pa.add_argument("--time-limit", type=_seconds, help="seconds per point")
    pa.add_argument("--no-warm-start", action="store_true", help="solve every point from the backend's own start")
    pa.add_argument("--figure", metavar="FILE.png", help="write held-out metric and active neurons against beta")
    _device_arguments(pa)
    pa.add_argument("--json", action="store_true", help="one JSON object per point, then one for the path")

    at = sub.add_parser(
        "attack",
        help="one-step and PGD attacks on a saved network (relubench solve ... --save-network FILE.npz)",
        description="One-step attack sizes (relative to ||x|| / sqrt(d)) and PGD robust accuracy of a saved "
        "network, on the held-out rows of the data (the training rows when there are none).",
    )
    at.add_argument("network", help="NPZ written by --save-network (arrays U, a, bias)")
    _data_arguments(at)
    at.add_argument("--epsilon", type=_nonnegative_float, default=0.0, help="PGD radius (default 0: no PGD)")
    at.add_argument("--norm", choices=("linf", "l2"), default="linf", help="PGD ball (default linf)")
    at.add_argument("--steps", type=_positive_int, default=50, help="PGD steps per restart (default 50)")
    at.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def _device_arguments(s: argparse.ArgumentParser) -> None:
    """Where backends that run on several devices compute (see `relubench solvers`, column devices)."""
    s.add_argument(
        "--device",
        choices=DEVICES,
        default="cpu",
        help="cpu (numpy) or cuda (torch on the first GPU; a backend without a visible GPU reports 'unavailable: "
        "no CUDA device' and is skipped). Only backends whose devices include it run (default cpu)",
    )
    s.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="floating point of backends with a device option: double (float64) or single (float32; certified "
        "gaps below about 1e-5 are then out of reach). Default: the backend's own (double; admm: mixed, its "
        "n x 2P slack state in float32 until its residuals reach 1e-5; admm takes double, not single)",
    )


def _data_arguments(s: argparse.ArgumentParser) -> None:
    """The options that choose the data (shared by solve and attack)."""
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="built-in dataset name (see `relubench datasets`)")
    src.add_argument(
        "--data", help="CSV (header, numeric, target column(s)) or NPZ file (X, y (n or n x c), optional masks D)"
    )
    s.add_argument("--target", default="y", help="target column of a CSV file; a,b,c for c outputs (default: y)")
    s.add_argument(
        "--test-fraction",
        type=_fraction,
        help="held-out share of the rows, split with --seed (default: 0.2 for built-in sets, 0 for --data files)",
    )
    s.add_argument("--test", metavar="FILE", help="held-out rows from a CSV or NPZ file (same columns as --data)")
    s.add_argument(
        "--multiclass",
        action="store_true",
        help="scikit-learn classification sets: one output per class (+1 for the class, -1 elsewhere)",
    )
    s.add_argument("--n", type=_positive_int, help="number of training rows (gaussian: generated; others: subsample)")
    s.add_argument("--d", type=_positive_int, help="number of features (gaussian only)")
    s.add_argument("--labels", choices=("teacher", "sign", "random"), help="gaussian only: targets (default teacher)")
    s.add_argument(
        "--seed", type=_nonnegative_int, default=0, help="seed of data, split and pattern sampling (default 0)"
    )
    s.add_argument("--bias", action="store_true", help="append a column of ones to X before drawing patterns")
