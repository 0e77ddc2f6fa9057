"""raytrec's packages import downwards only, in the layers ``docs/architecture.md`` draws, so
that following one step never leads back up (and no package cycle forms); every file that page
names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [  # lowest first; a package imports from the layers below its own only
    {"errors", "kinds", "layout", "scratch", "memory", "ranks", "shards", "distance", "disk",
     "interrupts", "debug"},
    {"plugins", "hookspecs"},
    {"config"},
    {"data"},
    {"features"},
    {"samplers", "mappers", "losses", "retrievers"},
    {"evaluation"},
    {"tasks"},
    {"train"},
    {"run"},
    {"tracking"},
    {"tune", "serve", "testing", "builtins", "api"},
    {"cluster"},
    {"cli"},
]
LAYER = {name: n for n, names in enumerate(LAYERS) for name in names}


def _imports(path: Path) -> set[str]:
    """The raytrec packages or top modules ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 \
            and node.module else [a.name for a in getattr(node, "names", [])] \
            if isinstance(node, ast.Import) else []
        found |= {n.split(".")[1] for n in names
                  if n.startswith("raytrec.") and len(n.split(".")) > 1}
    return found


def _own(path: Path) -> str:
    rel = path.relative_to(ROOT / "raytrec")
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_every_module_imports_from_its_layer_or_below() -> None:
    upward = []
    for path in sorted((ROOT / "raytrec").rglob("*.py")):
        own = _own(path)
        if own == "__init__":
            continue
        assert own in LAYER, f"{own} (raytrec/{path.relative_to(ROOT / 'raytrec')}) has no layer"
        for name in _imports(path) - {own}:
            assert name in LAYER, f"{path}: imports raytrec.{name}, which has no layer"
            if LAYER[name] >= LAYER[own] and LAYER[own] > 0:
                upward.append(f"{path.relative_to(ROOT)} ({own}) imports raytrec.{name}")
    assert not upward, "\n".join(upward)


def test_the_architecture_page_names_files_that_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:raytrec|plugins|tests)/[\w/.-]+)`", text))
    assert named, "the page names the files of each step"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"
