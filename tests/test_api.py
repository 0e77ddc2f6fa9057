"""Plugins are written against ``raytrec.api``: the plugin distributions in ``plugins/``
import raytrec only through it, ``raytrec.hookimpl``, and the modules of built-in components
they extend, so that the rest of raytrec can move without breaking them."""

from __future__ import annotations

import ast
from pathlib import Path

import raytrec.api
from raytrec.plugins import get_registry

ROOT = Path(__file__).resolve().parents[1]


def _raytrec_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                (node.module == "raytrec" or node.module.startswith("raytrec.")):
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names
                      if a.name == "raytrec" or a.name.startswith("raytrec.")]
    return found


def test_plugin_distributions_import_the_public_api_only() -> None:
    builtin = {e.cls.__module__ for e in get_registry().entries() if e.distribution == "raytrec"}
    allowed = {"raytrec", "raytrec.api", "raytrec.testing", *builtin}
    sources = [p for d in sorted((ROOT / "plugins").glob("*/raytrec_*")) if d.is_dir()
               for p in sorted(d.rglob("*.py"))]
    assert sources, "the plugin distributions are found"
    private = [f"{p.relative_to(ROOT)}:{line} imports {module}"
               for p in sources for line, module, _ in _raytrec_imports(p)
               if module not in allowed]
    assert not private, "\n".join(private)


def test_every_public_name_is_importable_and_listed_once() -> None:
    names = raytrec.api.__all__
    assert len(names) == len(set(names))
    missing = [n for n in names if not hasattr(raytrec.api, n)]
    assert not missing, missing
