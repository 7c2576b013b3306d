"""`make bench` is not run by the suite, so a renamed function it imports would only show when someone runs it:
every name it imports from the platform must exist."""

import ast
import importlib
import importlib.util

from engpass.settings import REPO_ROOT

BENCH = REPO_ROOT / "bench" / "run.py"


def imported_names() -> list[tuple[str, str]]:
    tree = ast.parse(BENCH.read_text(), str(BENCH))
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("engpass", "workers")
        for alias in node.names
    ]


def test_the_bench_imports_from_the_platform():
    assert len(imported_names()) > 10


def test_every_name_the_bench_imports_exists():
    missing = []
    for module_name, name in imported_names():
        module = importlib.import_module(module_name)
        if not hasattr(module, name) and importlib.util.find_spec(f"{module_name}.{name}") is None:
            missing.append(f"{module_name}.{name}")
    assert missing == []
