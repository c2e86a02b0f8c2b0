"""The layout's promises: no import circle, imports follow the flow of the layers, no private helper imported
across modules, no relubench import hidden inside a function, and the README's Layout section matches the tree."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# source folder -> import name (solvers/ and datasets/ are installed as relubench.solvers / relubench.datasets)
SOURCES = {"relubench": "relubench", "solvers": "relubench.solvers", "datasets": "relubench.datasets"}
# the flow: a module may import from its own package and from packages of a lower layer, never a higher one
LAYERS = {
    "relubench": 0,  # relubench/__init__.py, errors.py, __main__ (the entry point, checked apart)
    "problem": 1,
    "datasets": 1,
    "running": 2,
    "solvers": 3,
    "bench": 4,
    "present": 5,
    "experiments": 6,
    "cli": 7,
}


def modules() -> dict[str, Path]:
    out = {}
    for folder, pkg in SOURCES.items():
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([pkg, *parts])] = path
    return out


MODULES = modules()


def imports(path: Path, name: str) -> list[tuple[str, str, bool]]:
    """(imported module, imported name or '', inside a function) for every relubench import of a file."""
    tree = ast.parse(path.read_text())
    found = []

    def visit(node: ast.AST, in_func: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_func or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((a.name, "", in_func) for a in child.names if a.name.startswith("relubench"))
            elif isinstance(child, ast.ImportFrom) and (child.module or "").startswith("relubench"):
                for a in child.names:
                    sub = f"{child.module}.{a.name}"
                    found.append((sub, "", in_func) if sub in MODULES else (child.module, a.name, in_func))
            visit(child, nested)

    visit(tree, False)
    return found


def graph() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in imports(p, m) if t != m and t in MODULES} for m, p in MODULES.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 and parts[1] in LAYERS else 0


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(g[u]):
            if state.get(v) == 1:
                return stack[stack.index(v) :] + [v]
            if v not in state and (c := dfs(v)):
                return c
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(g):
        if u not in state and (c := dfs(u)):
            return c
    return None


def test_no_import_circle():
    cycle = find_cycle(graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_follow_the_layers():
    bad = [
        f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
        for m, targets in graph().items()
        if not m.endswith("__main__")
        for t in targets
        if layer(t) > layer(m)
    ]
    assert not bad, "\n".join(bad)


def test_no_private_helper_across_modules_and_no_hidden_imports():
    bad = []
    for m, path in MODULES.items():
        for target, name, in_func in imports(path, m):
            if in_func:
                bad.append(f"{m}: imports {target} inside a function")
            if name.startswith("_") and not name.startswith("__") and target != m:
                bad.append(f"{m}: imports private {target}.{name}")
    assert not bad, "\n".join(bad)


def test_readme_layout_matches_the_tree():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Layout") :]
    section = section[: section.find("\n## ", 5) if "\n## " in section[5:] else len(section)]
    named = set(re.findall(r"`(relubench/[a-z_]+/)`", section))
    actual = {f"relubench/{p.name}/" for p in (ROOT / "relubench").iterdir() if (p / "__init__.py").exists()}
    assert named == actual, f"README names {sorted(named)}, the tree has {sorted(actual)}"
    for folder in ("solvers/", "datasets/", "tests/", "scripts/", "benchmarks/", "configs/", "docs/"):
        assert f"`{folder}`" in section and (ROOT / folder).is_dir(), folder


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("relubench.solvers.")))
def test_every_backend_module_declares_capabilities(module):
    tree = ast.parse(MODULES[module].read_text())
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        registered = any(isinstance(d, ast.Name) and d.id == "register" for d in cls.decorator_list)
        if not registered:
            continue
        # a registered backend declares capabilities itself or inherits them from a base class in the same file
        own = any(
            isinstance(s, ast.Assign) and any(getattr(t, "id", "") == "capabilities" for t in s.targets)
            for s in cls.body
        )
        bases = {b.id for b in cls.bases if isinstance(b, ast.Name)}
        local = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        assert own or bases & local, f"{module}.{cls.name} declares no capabilities"


def test_readme_is_short_and_its_links_resolve():
    """The README is for a newcomer (under 250 lines); every relative link in it (and in docs/) names a file here,
    and every anchor a heading of that file."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 250
    bad = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if "://" in target:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                bad.append(f"{page.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md":
                slugs = {
                    re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                    for h in re.findall(r"^#+ (.+)$", dest.read_text(), flags=re.M)
                }
                if anchor not in slugs:
                    bad.append(f"{page.name}: {target} (no such heading)")
    assert not bad, "\n".join(bad)


def test_results_page_is_what_the_stored_outputs_give():
    """docs/results.md is generated (scripts/results_page.py) from docs/results/: never edited by hand."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "results_page.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# what measures a solve (gaps, times to accuracy, held-out and attack metrics): computed in relubench/running/
# alone, and put together into rows by running/measure.py; the CLI, the sweep worker and the report read rows
MEASURING = {
    ("relubench.running.metrics", name)
    for name in ("time_to_tolerance", "time_to_certified", "network_metrics", "prediction_scores", "reached")
} | {("relubench.running.attacks", name) for name in ("one_step_sizes", "robust_accuracy", "accuracy")}


def test_only_running_computes_measurements():
    """No package outside relubench/running/ (and no asv suite) imports the measuring functions: they read rows of
    relubench.running.measure. (Benchmark scripts live in scripts/ and are checked by their own tests.)"""
    suites = {f"benchmarks.{p.stem}": p for p in (ROOT / "benchmarks").glob("*.py")}
    bad = [
        f"{m} imports {target}.{name}"
        for m, path in {**MODULES, **suites}.items()
        if not m.startswith("relubench.running.")
        for target, name, _ in imports(path, m)
        if (target, name) in MEASURING or (name == "" and target in {t for t, _ in MEASURING})
    ]
    assert not bad, "measurements belong in relubench.running.measure:\n" + "\n".join(bad)
