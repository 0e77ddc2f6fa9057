"""What a submitted job carries to the cluster: a working directory raytrec stages itself.

It holds the config (with ``--set`` applied), the local files the config names, the files given
with ``--include``, and the wheels of raytrec and of the plugin distributions the config uses
(``raytrec.cluster.wheels``). Nothing else of the config's folder goes: a ``.env`` or a key
beside the config stays where it is. Files on shared storage (``--shared DIR``) and URIs are
referenced, not copied. A secret-looking file is never shipped unless it was given by name with
``--include``, and a directory over Ray's upload limit is refused before any upload.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from raytrec.cluster.wheels import RAYTREC, ShipError, build_wheels, needed_distributions
from raytrec.config import read_config
from raytrec.config.defaults import PLUGIN_SECTIONS
from raytrec.plugins import get_registry
from raytrec.run.run_dir import free_name

CONFIG_NAME = "config.yaml"
FILES_DIR = "files"
WHEELS_DIR = "wheels"
MIB = 1024**2
# The Ray job server refuses a request body over 100 MiB (ray_constants.DASHBOARD_CLIENT_MAX_SIZE).
UPLOAD_LIMIT = 100 * MIB
# Local files the config names travel with the job only up to this size in all, leaving the
# rest of the upload for the wheels; larger data belongs on shared storage.
COPY_LIMIT = 50 * MIB
# Never shipped unless named with --include: credentials and keys by their usual names.
# (SSH keys by their key types' names: a data file called id_map.csv is no key.)
SECRET_PATTERNS = (".env", ".env.*", "*.env", "*.pem", "*.key", "id_rsa*", "id_dsa*",
                   "id_ecdsa*", "id_ed25519*", "*.p12", "*.pfx", "*.jks", "*.kdbx", ".netrc",
                   ".pgpass", ".git-credentials", "credentials", "credentials.*",
                   "*credentials*.json", "*service-account*.json", "client_secret*.json",
                   "secrets.*", ".secrets", ".npmrc", ".pypirc", "kubeconfig")
# Never shipped from an --include'd directory.
SKIPPED_DIRS = (".git", ".venv", "venv", "runs", "__pycache__", ".ssh", ".aws", ".gnupg",
                ".pytest_cache", ".ruff_cache", ".mypy_cache")
SHARED_ENV = "RAYTREC_SHARED_STORAGE"


@dataclass
class Staged:
    """A staged working directory and what it holds."""

    directory: Path
    wheels: list[str]  # relative to ``directory``
    copied: dict[str, str] = field(default_factory=dict)  # config key -> file in the directory
    referenced: dict[str, str] = field(default_factory=dict)  # config key -> path on the cluster
    missing: dict[str, str] = field(default_factory=dict)  # config key -> path not found here

    @property
    def size(self) -> int:
        return sum(f.stat().st_size for f in self.directory.rglob("*") if f.is_file())


def is_secret(name: str) -> bool:
    return any(fnmatch.fnmatch(name.lower(), p) for p in SECRET_PATTERNS)


def shared_dirs(given: Iterable[str]) -> list[Path]:
    """``--shared`` directories, then those of ``$RAYTREC_SHARED_STORAGE`` (``:``-separated)."""
    listed = [*given, *filter(None, os.environ.get(SHARED_ENV, "").split(os.pathsep))]
    return [Path(os.path.abspath(Path(d).expanduser())) for d in listed]


def on_shared(path: str, shared: list[Path]) -> bool:
    resolved = Path(os.path.abspath(path))
    return any(resolved == d or d in resolved.parents for d in shared)


def stage_job(config_path: str | Path, overrides: list[str], out: Path, shared: list[Path],
              include: list[str], cluster_has: list[str]) -> Staged:
    """Fill ``out`` (an empty directory) with what the job needs; ShipError names what cannot
    go and why."""
    raw = read_config(config_path, overrides)
    staged = Staged(out, [])
    budget = [COPY_LIMIT]
    for section, kind in PLUGIN_SECTIONS.items():
        value = raw.get(section)
        if not isinstance(value, dict) or not get_registry().has(kind, str(value.get("name"))):
            continue
        for arg in getattr(get_registry().get(kind, value["name"]), "path_args", ()):
            path = value.get(arg)
            if isinstance(path, str) and path:
                value[arg] = _place(f"{section}.{arg}", path, staged, shared, budget)
    tracking = raw.get("tracking")
    if isinstance(tracking, dict) and tracking.get("backend") == "mlflow" and \
            not tracking.get("experiment"):
        # The job reads CONFIG_NAME: the experiment stays the name of the file submitted.
        tracking["experiment"] = Path(config_path).stem
    (out / CONFIG_NAME).write_text(yaml.safe_dump(raw, sort_keys=False))
    return _finish(staged, include, needed_distributions(raw, cluster_has))


def stage_wheels(out: Path, include: list[str], cluster_has: list[str],
                 config: dict[str, Any] | None) -> Staged:
    """Only the wheels (and ``--include``): of what ``config`` names, or with no config of
    raytrec and every installed plugin distribution."""
    if config is not None:
        names = needed_distributions(config, cluster_has)
    else:
        names = needed_distributions({}, cluster_has) + sorted(
            {e.distribution for e in get_registry().entries()} - {RAYTREC} - set(cluster_has))
    return _finish(Staged(out, []), include, names)


def _finish(staged: Staged, include: list[str], distributions: list[str]) -> Staged:
    out = staged.directory
    for item in include:
        _include(Path(item), out)
    wheels = build_wheels(distributions, out / ".wheels-build")
    staged.wheels = _file_wheels(wheels, out)
    shutil.rmtree(out / ".wheels-build")
    _check_secrets(out, include)
    size = staged.size
    if size > UPLOAD_LIMIT:
        raise ShipError(f"the job's working directory is {size / MIB:.1f} MiB, over the "
                        f"{UPLOAD_LIMIT // MIB} MiB that the Ray job server accepts; "
                        + _largest(out) + "; put large files on shared storage (--shared)")
    return staged


def _place(key: str, path: str, staged: Staged, shared: list[Path], budget: list[int]) -> str:
    """Where the job reads ``path`` from: as it is (a URI, shared storage, or not here), or a
    copy in the working directory."""
    if "://" in path or on_shared(path, shared):
        staged.referenced[key] = path
        return path
    local = Path(path)
    if not local.exists():
        staged.missing[key] = path
        return path
    if is_secret(local.name):
        raise ShipError(f"{key}: {path} looks like a secret ({local.name}); raytrec does not "
                        "ship it to the cluster: name another file, or put it on the "
                        "cluster's shared storage (--shared)")
    size = _tree_size(local)
    if size > budget[0]:
        raise ShipError(f"{key}: {path} is {size / MIB:.1f} MiB; local data travels with the "
                        f"job only up to {COPY_LIMIT // MIB} MiB in all. Put it on storage "
                        "every node sees and pass that directory with --shared DIR (or "
                        f"${SHARED_ENV}), or give a URI (s3://, gs://)")
    budget[0] -= size
    target = free_name(staged.directory / FILES_DIR, local.name, "{n}-{name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if local.is_dir():
        _copy_tree(local, target, explicit=set())
    else:
        shutil.copy2(local, target)
    relative = str(target.relative_to(staged.directory))
    staged.copied[key] = relative
    return relative


def _include(item: Path, out: Path) -> None:
    if not item.exists():
        raise ShipError(f"--include {item}: no such file or directory")
    target = out / item.name
    if target.exists():
        raise ShipError(f"--include {item}: the working directory already holds "
                        f"{item.name}; rename one of them")
    if item.is_dir():
        _copy_tree(item, target, explicit={item.resolve()})
    else:
        shutil.copy2(item, target)


def _copy_tree(source: Path, target: Path, explicit: set[Path]) -> None:
    """Copy ``source`` without secret-looking files and tool directories."""

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n in SKIPPED_DIRS or is_secret(n)]

    shutil.copytree(source, target, ignore=ignore, symlinks=False)


def _file_wheels(wheels: list[Path], out: Path) -> list[str]:
    """Wheels under ``wheels/<hash of their bytes>/``: Ray caches a pip environment by its
    requirement strings, so a rebuilt wheel must get a new path to be installed again."""
    digest = hashlib.sha256()
    for wheel in wheels:  # by content: a rebuild of the same files keeps the path
        digest.update(wheel.name.encode())
        with zipfile.ZipFile(wheel) as whl:
            for member in sorted(whl.infolist(), key=lambda m: m.filename):
                digest.update(f"{member.filename}:{member.CRC}:{member.file_size}".encode())
    folder = out / WHEELS_DIR / digest.hexdigest()[:16]
    folder.mkdir(parents=True)
    placed = []
    for wheel in wheels:
        wheel.replace(folder / wheel.name)
        placed.append(str((folder / wheel.name).relative_to(out)))
    return placed


def _check_secrets(out: Path, include: list[str]) -> None:
    """The last look before upload: no secret-looking file anywhere, inside the wheels too,
    except files named one by one with --include."""
    allowed = {Path(i).name for i in include if Path(i).is_file()}
    for file in out.rglob("*"):
        rel = file.relative_to(out)
        if file.is_file() and is_secret(file.name) and str(rel) not in allowed:
            raise ShipError(f"{rel} looks like a secret; raytrec does not ship it to the "
                            f"cluster (pass --include {rel} to send it on purpose)")
        if file.suffix == ".whl":
            with zipfile.ZipFile(file) as whl:
                inside = [n for n in whl.namelist() if is_secret(Path(n).name)]
            if inside:
                raise ShipError(f"the wheel {file.name} holds {inside[0]}, which looks like a "
                                "secret; leave it out of that distribution's package data "
                                "(or install the distribution on the cluster's nodes and pass "
                                "--cluster-has)")


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _largest(out: Path) -> str:
    files = sorted((f for f in out.rglob("*") if f.is_file()), key=lambda f: -f.stat().st_size)
    top = ", ".join(f"{f.relative_to(out)} ({f.stat().st_size / MIB:.1f} MiB)" for f in files[:3])
    return f"largest: {top}"


def runtime_env(staged: Staged, env_vars: dict[str, str]) -> dict[str, Any]:
    """The job's runtime_env: the staged directory as its working directory, and the wheels
    installed without their dependencies into an environment layered on the nodes' own (the
    nodes have raytrec's dependencies: cluster.yaml installs them)."""
    return {
        "working_dir": str(staged.directory),
        "pip": {"packages": [f"${{RAY_RUNTIME_ENV_CREATE_WORKING_DIR}}/{w}"
                             for w in staged.wheels],
                "pip_check": False,
                "pip_install_options": ["--no-deps", "--disable-pip-version-check",
                                        "--no-cache-dir"]},
        "env_vars": env_vars,
    }
