"""The dependency rule (docs/ARCHITECTURE.md, "Layers"): which walens modules may import which.

Scanners fetch and translate (they import neither the engine nor the facts); facts and the engine read the
model, never a scanner; walens.diff and walens.history compute and never render (no import of a reporter);
reporters render the documents they are given and import neither walens.diff nor walens.history. Every
import counts, at module level or inside a function, ``import x`` or ``from x import y``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "walens"

# (importing modules, imported modules it must not import): each a dotted name, a prefix matching itself
# and everything beneath it.
FORBIDDEN = [
    ("walens.scanners", ("walens.engine", "walens.facts")),
    ("walens.engine", ("walens.scanners",)),
    ("walens.facts", ("walens.scanners",)),
    ("walens.diff", ("walens.reporters",)),
    ("walens.history", ("walens.reporters",)),
    ("walens.reporters", ("walens.diff", "walens.history")),
]

# Edges the rule forbids but the code still has: each named with why. Empty: keep it so.
ALLOWED: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved; ``from walens import x`` counts as walens.x."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)  # a submodule imported by name
    return out


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def edges() -> set[tuple[str, str]]:
    """(importer, imported) pairs that break the rule."""
    found: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for imported in _imports(path):
            for source, targets in FORBIDDEN:
                if _under(importer, source) and any(_under(imported, t) for t in targets):
                    # ``from walens.reporters import _common`` adds walens.reporters._common: report the module.
                    found.add((importer, next(t for t in targets if _under(imported, t))))
    return found


def test_no_module_imports_against_the_layers() -> None:
    broken = edges() - ALLOWED
    assert not broken, "imports against the dependency rule (docs/ARCHITECTURE.md): " + ", ".join(
        f"{a} -> {b}" for a, b in sorted(broken))


def test_the_allow_list_holds_only_edges_that_exist() -> None:
    assert not ALLOWED - edges(), "an allowed edge is gone: remove it from ALLOWED"


@pytest.mark.parametrize(("source", "text", "expected"), [
    ("walens/scanners/account/x.py", "def f():\n    from walens.engine import Finding\n",
     {("walens.scanners.account.x", "walens.engine")}),
    ("walens/facts/x.py", "from ..scanners import sam\n", {("walens.facts.x", "walens.scanners")}),
    ("walens/reporters/x.py", "from walens import diff\n", {("walens.reporters.x", "walens.diff")}),
    ("walens/diff.py", "import walens.reporters.console\n", {("walens.diff", "walens.reporters")}),
    ("walens/history.py", "from walens.model import PILLARS\n", set()),
    ("walens/reporters/x.py", "from walens.diffs import x\n", set()),  # a prefix is a whole dotted name
])
def test_the_check_sees_every_form_of_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str,
                                              text: str, expected: set[tuple[str, str]]) -> None:
    root = tmp_path / "walens"
    path = root / source.removeprefix("walens/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    monkeypatch.setitem(globals(), "PACKAGE", root)
    assert edges() == expected
