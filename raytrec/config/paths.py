"""File paths in a config: relative ones are taken from the folder of the file that names them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raytrec.config.defaults import PLUGIN_SECTIONS


def resolve_paths(config: dict[str, Any], base: Path) -> None:
    """Make every path argument (a plugin's ``path_args``) of ``config`` absolute, in place."""
    from raytrec.plugins import get_registry

    registry = get_registry()
    for section, kind in PLUGIN_SECTIONS.items():
        value = config.get(section)
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            continue
        if not registry.has(kind, value["name"]):
            continue  # validation names the unknown plugin
        for arg in getattr(registry.get(kind, value["name"]), "path_args", ()):
            path = value.get(arg)
            if isinstance(path, str) and path and "://" not in path:
                value[arg] = str((base / Path(path).expanduser()).absolute())
