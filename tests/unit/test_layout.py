"""The import picture of the package, read from its source: who may import MLflow and Spark, no
import cycle, and modules and classes small enough to read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "sweep"
MAX_MODULE_LINES = 300
MAX_CLASS_LINES = 120
# The JVM-free scorer is copied into every logged model and runs inside MLflow's scoring server,
# where raising MLflow's own exception is what turns a bad request into a 400.
MLFLOW_OUTSIDE_TRACKING = {"sweep.treescore"}
# The scorer is copied alone into every logged model (MLflow code_paths, loader_module
# `treescore`), so its file format, NumPy scoring (with the paths sweep.curves cuts) and pyfunc
# loader stay one file.
LONG_MODULES = {"sweep.treescore": 420}
# What the plots, the report and the story read: plain records, never what produced them; and
# the config checks, so that a bad config is refused before Spark or MLflow loads.
LIGHT = (
    "sweep.plots",
    "sweep.report",
    "sweep.story",
    "sweep.records",
    "sweep.progress",
    "sweep.config_checks",
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def test_no_module_outside_tracking_names_mlflow_even_for_types():
    """Type-only imports too: a run's type comes from sweep.tracking.history."""
    named = {
        name
        for name, path in MODULES.items()
        if not name.startswith("sweep.tracking")
        and name not in MLFLOW_OUTSIDE_TRACKING
        and any(
            isinstance(n, (ast.Import, ast.ImportFrom))
            and any(
                m.startswith("mlflow")
                for m in (
                    [n.module or ""] if isinstance(n, ast.ImportFrom) else [a.name for a in n.names]
                )
            )
            for n in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert named == set()


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules `path` imports when run (not under `if TYPE_CHECKING:`); `top_level_only`: those
    imported when the module itself is imported, not inside its functions."""
    names: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            counted = not (top_level_only and inner)
            if isinstance(child, ast.Import) and counted:
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and counted:
                names.add(child.module)
                # `from sweep import plots`: the module sweep.plots
                names.update(f"{child.module}.{a.name}" for a in child.names)
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return names


def _package_imports(name: str, top_level_only: bool = True) -> set[str]:
    return {m for m in _imports(MODULES[name], top_level_only) if m in MODULES and m != name}


def _outside(name: str, prefix: str, top_level_only: bool) -> set[str]:
    imported = _imports(MODULES[name], top_level_only)
    return {m for m in imported if m == prefix or m.startswith(f"{prefix}.")}


def test_only_the_tracking_package_imports_mlflow():
    offenders = {
        name: sorted(_outside(name, "mlflow", top_level_only=False))
        for name in MODULES
        if not name.startswith("sweep.tracking") and name not in MLFLOW_OUTSIDE_TRACKING
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_config_and_the_parameter_tables_depend_only_on_errors():
    # and the config's pure `${dataset_name:...}` resolver, which imports nothing of the package
    assert _package_imports("sweep.config", top_level_only=False) <= {
        "sweep.errors", "sweep.data.names",
    }  # fmt: skip
    assert _package_imports("sweep.data.names", top_level_only=False) == set()
    assert _package_imports("sweep.params", top_level_only=False) <= {"sweep.errors"}


def _closure(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(_package_imports(current))
            parent = current.rpartition(".")[0]  # importing a.b.c runs a.b's __init__ first
            if parent in MODULES:
                todo.append(parent)
    return seen


@pytest.mark.parametrize("name", LIGHT)
def test_what_reads_results_imports_neither_spark_nor_mlflow(name):
    heavy = {
        module: sorted(_outside(module, "pyspark", True) | _outside(module, "mlflow", True))
        for module in _closure(name)
    }
    assert {k: v for k, v in heavy.items() if v} == {}


def test_the_package_has_no_import_cycle():
    graph = {name: _package_imports(name) for name in MODULES}
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                pytest.fail("import cycle: " + " -> ".join([*path, name, other]))
            if other not in state:
                visit(other, [*path, name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_modules_and_classes_stay_small():
    too_long = {}
    for name, path in MODULES.items():
        lines = path.read_text().count("\n")
        if lines > LONG_MODULES.get(name, MAX_MODULE_LINES):
            too_long[name] = lines
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    too_long[f"{name}.{node.name}"] = length
    assert too_long == {}
