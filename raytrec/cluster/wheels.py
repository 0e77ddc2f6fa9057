"""The distributions a job needs on the cluster, as wheels: raytrec itself and every
third-party plugin distribution the config names.

A wheel carries its distribution's entry points, so the plugins register on the workers as
they do here (a bare module directory would not). An editable install is built from its source
directory (``pip wheel``); any other is packed again from its installed files (its ``RECORD``),
so a plugin that came from a private index or a local wheel ships too.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from raytrec.config.defaults import PLUGIN_SECTIONS
from raytrec.errors import RaytrecError

RAYTREC = "raytrec"
BUILD_TIMEOUT_S = 300.0


class ShipError(RaytrecError):
    """A distribution the job needs cannot be sent to the cluster."""


def named_components(config: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of every component a config (or a search file) names, including the
    names a search draws from (``loss.name: {choice: [...]}``)."""
    found = set()
    for section, kind in PLUGIN_SECTIONS.items():
        value = config.get(section)
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            found.add((kind, value["name"]))
        space = (config.get("search") or {}).get(f"{section}.name")
        if isinstance(space, dict):
            for options in space.values():
                if isinstance(options, list):
                    found |= {(kind, n) for n in options if isinstance(n, str)}
    return found


def needed_distributions(config: dict[str, Any], skip: Iterable[str] = ()) -> list[str]:
    """raytrec and the distributions that register the components ``config`` names, less
    ``skip`` (distributions the cluster's nodes already have)."""
    from raytrec.plugins import get_registry

    by_component = {(e.kind, e.name): e.distribution for e in get_registry().entries()}
    names = {by_component[c] for c in named_components(config) if c in by_component}
    skipped = {_normal(s) for s in skip}
    return sorted({RAYTREC, *names} - {n for n in {RAYTREC, *names} if _normal(n) in skipped},
                  key=lambda n: (n != RAYTREC, n))


def build_wheels(distributions: list[str], out: Path) -> list[Path]:
    """One wheel per distribution in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    return [wheel_of(name, out) for name in distributions]


def wheel_of(name: str, out: Path) -> Path:
    dist = installed(name)
    source = editable_source(dist)
    if source is not None:
        return _build(dist, source, out)
    return repack(dist, out)


def installed(name: str) -> md.Distribution:
    """The installed distribution ``name``: of several on ``sys.path`` (a source tree's
    ``*.egg-info`` beside the installed one), an editable install or one with a RECORD."""
    found = [d for d in md.distributions() if _normal(d.metadata["Name"] or "") == _normal(name)]
    if not found:
        raise ShipError(f"distribution {name!r} is not installed here, so it cannot be shipped "
                        "to the cluster")
    return max(found, key=lambda d: (editable_source(d) is not None,
                                     d.read_text("RECORD") is not None))


def editable_source(dist: md.Distribution) -> Path | None:
    """The source directory of an editable install (PEP 660 ``direct_url.json``)."""
    raw = dist.read_text("direct_url.json")
    if not raw:
        return None
    info = json.loads(raw)
    url = info.get("url", "")
    if not info.get("dir_info", {}).get("editable") or not url.startswith("file://"):
        return None
    return Path(url.removeprefix("file://"))


def _build(dist: md.Distribution, source: Path, out: Path) -> Path:
    """``pip wheel`` of an editable install's source, with the build tools installed here
    (then, if those lack the project's build backend, in an isolated build environment)."""
    name = dist.metadata["Name"]
    with tempfile.TemporaryDirectory(prefix="raytrec-wheel-") as tmp:
        errors = ""
        for isolation in (["--no-build-isolation"], []):
            cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                   "--disable-pip-version-check", *isolation, "-w", tmp, str(source)]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True,
                                      timeout=BUILD_TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired:
                errors = f"pip wheel took over {BUILD_TIMEOUT_S:g} s"
                continue
            built = sorted(Path(tmp).glob("*.whl"))
            if done.returncode == 0 and built:
                target = out / built[0].name
                built[0].replace(target)
                return target
            errors = (done.stderr.strip().splitlines() or ["no output"])[-1]
    raise ShipError(f"plugin distribution {name} (editable install from {source}) could not "
                    f"be built as a wheel: {errors}; fix its build, or install it on the "
                    f"cluster's nodes and pass --cluster-has {name}")


def repack(dist: md.Distribution, out: Path) -> Path:
    """A wheel of an installed distribution's files, as its ``RECORD`` lists them (files
    outside site-packages, such as console scripts, are left out: pip makes them again)."""
    name, version = dist.metadata["Name"], dist.version
    record = dist.read_text("RECORD")
    if not record or dist.files is None:
        raise ShipError(f"plugin distribution {name} {version} was installed without a RECORD "
                        "of its files (by a system package manager?), so raytrec cannot pack "
                        f"it for the cluster; install it on the cluster's nodes (cluster.yaml "
                        f"setup_commands) and pass --cluster-has {name}")
    stem = f"{_normal(name)}-{version}"
    tag = _wheel_tag(dist)
    target = out / f"{stem}-{tag}.whl"
    rows = []
    info_dir = f"{stem}.dist-info"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as whl:
        for file in dist.files:
            path = str(file)
            if path.startswith("..") or "__pycache__" in path or path.endswith(
                    (".pyc", "/RECORD", "/INSTALLER", "/REQUESTED", "/direct_url.json")):
                continue
            data = Path(dist.locate_file(file)).read_bytes()
            arcname = _renamed_info(path, info_dir)
            whl.writestr(arcname, data)
            rows.append(f"{arcname},sha256={_digest(data)},{len(data)}")
        rows.append(f"{info_dir}/RECORD,,")
        whl.writestr(f"{info_dir}/RECORD", "\n".join(rows) + "\n")
    return target


def _renamed_info(path: str, info_dir: str) -> str:
    """Files of the installed ``*.dist-info`` go to the wheel's (normalised) one."""
    head, _, rest = path.partition("/")
    return f"{info_dir}/{rest}" if head.endswith(".dist-info") else path


def _wheel_tag(dist: md.Distribution) -> str:
    wheel = dist.read_text("WHEEL") or ""
    tags = re.findall(r"^Tag:\s*(\S+)", wheel, flags=re.M)
    return tags[0] if tags else "py3-none-any"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()
