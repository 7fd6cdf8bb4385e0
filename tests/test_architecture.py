"""The house rule: imports point one way — api → ingest, queries → graph.

``graph`` imports none of the other packages, ``ingest`` and ``queries`` import
neither ``api`` nor each other; a violation names the file and the import.

The rules name the repository's folders. Installed, the folders are subpackages of
``NAMESPACE`` (``coopgraph.graph`` …, see setup.py): an import names a folder by its
part after the namespace, and importing a folder by its bare name is itself a
violation (it would not be found once installed).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "graph": {"api", "ingest", "queries"},
    "ingest": {"api", "queries"},
    "queries": {"api", "ingest"},
    "api": set(),
}
# The installed namespace of the folders ("" before the namespace rewrite).
NAMESPACE = "coopgraph"


def _folder(module: str) -> str:
    """The folder an imported module lives in (its first name after the namespace)."""
    parts = module.split(".")
    if NAMESPACE and parts[0] == NAMESPACE and len(parts) > 1:
        return parts[1]
    if NAMESPACE and parts[0] in FORBIDDEN:
        return f"{parts[0]} outside the {NAMESPACE} namespace"
    return parts[0]


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(_folder(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(_folder(node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in sorted(_imported_packages(path))
        if name in FORBIDDEN[package] or name.endswith(" namespace")
    ]
    assert not offenders, "imports that point the wrong way:\n" + "\n".join(offenders)


def test_the_rule_detects_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from coopgraph.api.main import create_app\n"
                   "import coopgraph.queries.match\n", encoding="utf-8")
    assert _imported_packages(bad) >= {"api", "queries"}
