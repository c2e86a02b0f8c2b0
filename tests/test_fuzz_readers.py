"""Property-based fuzzing of every reader of user input (hypothesis): CSV and NPZ data files, sweep configs, network
files, results tables and their journals, reference-cache entries. Each generated input is read, or refused with a
ReluBenchError (the CLI's one `relubench: error:` line, exit 2); any other exception is a bug.

Examples per reader: RELUBENCH_FUZZ_EXAMPLES (default 200, the CI profile, the same examples every run;
`bash scripts/fuzz.sh` runs 10^4 fresh ones and writes the counts to docs/fuzzing.md). Every example works in a
fresh temporary folder and nothing may appear outside it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relubench.bench.config import load_config
from relubench.bench.store import ResultStore
from relubench.datasets.files import load_file, with_test_file
from relubench.datasets.network_files import load_network
from relubench.errors import ReluBenchError
from relubench.problem import Problem
from relubench.running.reference import Reference, _cache_path, cached_reference

EXAMPLES = int(os.environ.get("RELUBENCH_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    derandomize=os.environ.get("RELUBENCH_FUZZ_RANDOM") is None,  # CI: the same examples every run
)
COUNTS_FILE = os.environ.get("RELUBENCH_FUZZ_COUNTS")  # scripts/fuzz.sh: where each reader's tally goes


def tally(reader: str, outcome: str) -> None:
    if COUNTS_FILE:
        with open(COUNTS_FILE, "a", encoding="utf-8") as fh:
            fh.write(f"{reader}\t{outcome}\n")


def read_or_refuse(reader: str, call) -> object:  # noqa: ANN001
    """Run one read: it succeeds or raises ReluBenchError; anything else fails the test (and the fuzzer shrinks)."""
    try:
        out = call()
    except ReluBenchError:
        tally(reader, "refused")
        return None
    tally(reader, "read")
    return out


class Folder:
    """A fresh folder for one example, and a check that nothing was written beside it."""

    def __enter__(self) -> Path:
        self.parent = Path(tempfile.mkdtemp(prefix="fuzz-"))
        self.path = self.parent / "work"
        self.path.mkdir()
        return self.path

    def __exit__(self, *exc: object) -> None:
        try:
            assert sorted(p.name for p in self.parent.iterdir()) == ["work"], "a reader wrote outside its folder"
        finally:
            shutil.rmtree(self.parent, ignore_errors=True)


TOKENS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e999", "abc", '"1.5"', '"a,b"', "#", "1,2", "\x00", "é"]),
    st.text(max_size=6),
)
NAMES = st.one_of(st.sampled_from(["a", "b", "c", "y", "t1", "t2", ""]), st.text(max_size=5))


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    """A valid CSV (distinct names, y among them, n x d numbers), then a few mutations of its cells and rows."""
    d = draw(st.integers(1, 5))
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "t1", "t2", "x y", "é"]), min_size=d, max_size=d,
                          unique=True)) + ["y"]  # fmt: skip
    n = draw(st.integers(1, 6))
    cells = [[repr(draw(st.floats(-1e6, 1e6))) for _ in names] for _ in range(n)]
    header = list(names)
    for _ in range(draw(st.integers(0, 3))):  # mutations
        kind = draw(st.sampled_from(["cell", "extra", "short", "header", "blank", "dupe"]))
        r = draw(st.integers(0, n - 1))
        if kind == "cell" and cells[r]:
            cells[r][draw(st.integers(0, len(cells[r]) - 1))] = draw(TOKENS)
        elif kind == "extra":
            cells[r].append(draw(TOKENS))
        elif kind == "short" and cells[r]:
            cells[r].pop()
        elif kind == "header":
            header[draw(st.integers(0, len(header) - 1))] = draw(NAMES)
        elif kind == "blank":
            cells.insert(r, [])
        elif kind == "dupe":
            header.append(header[0])
    lines = [",".join(header)] + [",".join(r) for r in cells]
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["", "\n"]))


@FUZZ
@given(text=csv_text(), target=st.sampled_from(["y", "t1,t2", "a", "nope", "y,y", ""]), split=st.booleans())
def test_csv_data_files(text, target, split):
    with Folder() as d:
        f = d / "data.csv"
        f.write_text(text, encoding="utf-8", errors="surrogatepass")
        ds = read_or_refuse("csv", lambda: load_file(f, target=target, test_fraction=0.3 if split else 0.0))
        if ds is not None:
            assert np.isfinite(ds.X_train).all() and ds.X_train.shape[0] == ds.y_train.shape[0] >= 1
            other = d / "held.csv"
            other.write_text(text, encoding="utf-8", errors="surrogatepass")
            if not split:
                read_or_refuse("csv-held-out", lambda: with_test_file(ds, other, target=target))


DTYPES = st.sampled_from(["f8", "f4", "i8", "u1", "b1", "c16", "U3", "O", "M8[s]"])


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=3)))
    dtype = draw(DTYPES)
    size = int(np.prod(shape)) if shape else 1
    if dtype == "O":
        return np.array([None] * size, dtype=object).reshape(shape)
    values = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=size, max_size=size))
    with np.errstate(all="ignore"):
        return np.asarray(values, dtype=float).astype(dtype).reshape(shape)


@st.composite
def npz_bytes(draw: st.DrawFn, names: list[str]) -> bytes | dict[str, np.ndarray]:
    """Mostly a valid archive (X n x d, y n, D n x P booleans; U d x m, a m, bias a boolean), then a few members
    replaced by arrays of other shapes or dtypes (object arrays among them), dropped, or the archive cut."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))  # not an archive at all
    n, d, m = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    finite = st.floats(-1e3, 1e3)
    base = {
        "X": np.array(draw(st.lists(finite, min_size=n * d, max_size=n * d))).reshape(n, d),
        "y": np.array(draw(st.lists(finite, min_size=n, max_size=n))),
        "D": np.array(draw(st.lists(st.booleans(), min_size=n * 2, max_size=n * 2))).reshape(n, 2),
        "U": np.array(draw(st.lists(finite, min_size=d * m, max_size=d * m))).reshape(d, m),
        "a": np.array(draw(st.lists(finite, min_size=m, max_size=m))),
        "bias": np.asarray(draw(st.booleans())),
    }
    out = {k: base[k] for k in names if draw(st.integers(0, 3)) > 0 or k not in ("D", "bias")}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from([*names, "other"]))
        out[key] = draw(arrays())
    if draw(st.integers(0, 7)) == 0:
        import io

        buf = io.BytesIO()
        np.savez(buf, **out)
        data = buf.getvalue()
        return data[: draw(st.integers(0, len(data)))]  # an archive cut short
    return out


def write_npz(path: Path, content: bytes | dict[str, np.ndarray]) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with open(path, "wb") as fh:
            np.savez(fh, **content)  # object arrays are pickled: the readers must refuse them


@FUZZ
@given(content=npz_bytes(["X", "y", "D"]))
def test_npz_data_files(content):
    with Folder() as d:
        f = d / "data.npz"
        write_npz(f, content)
        ds = read_or_refuse("npz", lambda: load_file(f))
        if ds is not None:
            assert np.isfinite(ds.X_train).all() and ds.X_train.ndim == 2


@FUZZ
@given(content=npz_bytes(["U", "a", "bias"]))
def test_network_files(content):
    with Folder() as d:
        f = d / "net.npz"
        write_npz(f, content)
        net = read_or_refuse("network", lambda: load_network(f))
        if net is not None:
            U, a, bias = net
            assert U.shape[1] == a.shape[0] and np.isfinite(U).all() and isinstance(bias, bool)


KEYS = ["name", "solvers", "formulations", "presets", "seeds", "time_limit", "memory_limit_mb", "grace_s",
        "solver_options", "device", "precision", "datasets", "experiments", "bogus"]  # fmt: skip
VALUES = st.recursive(
    st.one_of(
        st.integers(-5, 10**6),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.sampled_from(["q", "admm", "fista", "relu", "gated", "mid", "gaussian", "../x", "", "cuda", "nan"]),
    ),
    lambda children: st.lists(children, min_size=1, max_size=3),
    max_leaves=6,
)


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else "-inf" if v == float("-inf") else repr(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return str(v)


@st.composite
def config_text(draw: st.DrawFn) -> str:
    """A valid config (backends from the registry, a small gaussian set), then a few keys set to random values,
    unknown keys, or the text cut; now and then text that is not TOML at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=80))
    top: dict[str, object] = {
        "name": "f",
        "solvers": draw(
            st.lists(
                st.sampled_from(["admm", "fista", "clarabel", "al", "ipm", "sgd"]), min_size=1, max_size=3, unique=True
            )
        ),  # fmt: skip
        "presets": ["low"],
    }
    dataset: dict[str, object] = {"name": "gaussian", "sizes": [[20, 2, 4]], "beta": 0.1}
    options: dict[str, object] = {}
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["top", "dataset", "options"]))
        if where == "top":
            top[draw(st.sampled_from(KEYS[:-3] + ["bogus"]))] = draw(VALUES)
        elif where == "dataset":
            dataset[draw(st.sampled_from(["name", "sizes", "beta", "loss", "options", "x"]))] = draw(VALUES)
        else:
            options[draw(st.sampled_from(["rho", "relaxation", "max_iter", "precision", "nope"]))] = draw(VALUES)
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    if options:
        lines.append("[solver_options.admm]")
        lines += [f"{k} = {toml_value(v)}" for k, v in options.items()]
    lines.append("[[datasets]]")
    lines += [f"{k} = {toml_value(v)}" for k, v in dataset.items()]
    text = "\n".join(lines) + "\n"
    return text[: draw(st.integers(0, len(text)))] if draw(st.integers(0, 9)) == 0 else text


@FUZZ
@given(text=config_text())
def test_sweep_configs(text):
    with Folder() as d:
        f = d / "c.toml"
        f.write_text(text, encoding="utf-8", errors="surrogatepass")
        cfg = read_or_refuse("config", lambda: load_config(f))
        if cfg is not None:
            assert cfg.cases and all(c.time_limit > 0 for c in cfg.cases)


ROWS = st.lists(
    st.fixed_dictionaries(
        {"case_hash": st.text(max_size=4), "status": st.sampled_from(["optimal", "error", "x"]), "solver": TOKENS},
        optional={"objective": st.floats(allow_nan=True), "dataset": TOKENS, "tol": st.floats()},
    ),
    max_size=5,
)


@FUZZ
@given(
    table=st.one_of(st.binary(max_size=200), ROWS),
    journal=st.one_of(
        st.none(),
        st.lists(
            st.one_of(
                st.text(max_size=30),
                ROWS.flatmap(lambda rows: st.sampled_from([json.dumps(r) for r in rows] or ["{}"])),
            ),
            max_size=5,
        ),  # fmt: skip
    ),
    cut=st.integers(0, 400),
)
def test_results_tables_and_journals(table, journal, cut):
    with Folder() as d:
        f = d / "r.parquet"
        if isinstance(table, bytes):
            f.write_bytes(table)
        elif table:
            data = pd.DataFrame(table).to_parquet(index=False)
            f.write_bytes(data[: cut if cut < len(data) else len(data)])  # whole, or cut by a "disk fault"
        if journal is not None:
            (d / ".r.parquet.journal.jsonl").write_text("\n".join(journal) + "\n")
        store = ResultStore(f)
        read_or_refuse("results-table", store.load)
        read_or_refuse("results-recover", store.recover)


@st.composite
def cache_entry(draw: st.DrawFn, key: str) -> str:
    """A valid entry (fields, key and checksum right), then a field changed (with or without a fresh checksum),
    the text cut, or other text entirely."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=100)).decode("latin-1")
    ref = Reference(draw(st.floats(0, 1e3)), "relu", "clarabel", "optimal", 0.0, key, draw(st.integers(0, 5)))
    entry = {**asdict(ref), "checksum": ref.checksum()}
    kind = draw(st.sampled_from(["valid", "field", "field+checksum", "cut", "missing"]))
    if kind.startswith("field"):
        field = draw(st.sampled_from(list(asdict(ref))))
        entry[field] = draw(VALUES)
        if kind == "field+checksum":  # a tampered entry with a recomputed checksum: only the checks stand
            try:
                entry["checksum"] = Reference(**{k: v for k, v in entry.items() if k != "checksum"}).checksum()
            except (TypeError, ValueError):
                pass
    elif kind == "missing":
        entry.pop(draw(st.sampled_from(list(entry))))
    text = json.dumps(entry)
    return text[: draw(st.integers(0, len(text)))] if kind == "cut" else text


PROBLEM = Problem.create(
    np.random.default_rng(0).standard_normal((8, 2)), np.random.default_rng(1).standard_normal(8), 0.1, patterns=3
)


@FUZZ
@given(data=st.data())
def test_reference_cache_entries(data):
    with Folder() as d:
        old = os.environ.get("RELUBENCH_CACHE")
        os.environ["RELUBENCH_CACHE"] = str(d)
        try:
            _, key, path = _cache_path(PROBLEM, "relu")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data.draw(cache_entry(key)), encoding="latin-1")
            ref = cached_reference(PROBLEM, "relu")  # never raises: a bad entry is dropped (and recomputed later)
            tally("reference-cache", "read" if ref is not None else "dropped")
            assert ref is None or (np.isfinite(ref.value) and ref.key == key)
        finally:
            if old is None:
                os.environ.pop("RELUBENCH_CACHE", None)
            else:
                os.environ["RELUBENCH_CACHE"] = old


@pytest.mark.parametrize("reader", ["csv", "npz", "network", "config", "results", "cache"])
def test_the_fuzzers_reach_both_outcomes(reader):
    """The strategies are not all refused (or all read): a fuzzer that only produces garbage proves little.
    Hand-made inputs of each kind that must be read."""
    with Folder() as d:
        if reader == "csv":
            (d / "a.csv").write_text("a,b,y\n1,2,3\n4,5,6\n")
            assert load_file(d / "a.csv").X_train.shape == (2, 2)
        elif reader in ("npz", "network"):
            write_npz(d / "a.npz", {"X": np.ones((3, 2)), "y": np.ones(3), "U": np.ones((2, 3)), "a": np.ones(3)})
            assert (load_file(d / "a.npz") if reader == "npz" else load_network(d / "a.npz")) is not None
        elif reader == "config":
            (d / "c.toml").write_text(
                'name = "q"\nsolvers = ["admm"]\n[[datasets]]\nname = "gaussian"\nsizes = [[20, 2, 4]]\nbeta = 0.1\n'
            )
            assert load_config(d / "c.toml").cases
        elif reader == "results":
            pd.DataFrame([{"case_hash": "h", "status": "optimal", "solver": "s"}]).to_parquet(d / "r.parquet")
            assert len(ResultStore(d / "r.parquet").load()) == 1
        else:
            assert cached_reference(Problem.create(np.ones((3, 1)), np.ones(3), 0.1, patterns=1)) is None
