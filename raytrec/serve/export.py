"""``raytrec export``: what serving a finished run needs, in one directory.

An export holds the user and item embeddings keyed by original id
(``user_embeddings.parquet``, ``item_embeddings.parquet``: ``index``, ``id``,
``embedding``), the id maps (``users.parquet``, ``items.parquet``: contiguous ``index`` to
original ``id``), the items each user saw in training (``seen.parquet``: ``user``, ``item``
as indexes, excluded from recommendations by default), the item feature table when the data
has one (titles), the built index where the retriever saves one (``index.faiss`` for the
FAISS retrievers), and ``manifest.json``: the distance, the vector width, the retriever and
its options, how vectors enter the index (``index.transform``), the run's config hash,
the raytrec version, and each file's size and SHA-256 (``files``), checked when it is
served. Written beside the target and moved into place when complete.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from raytrec.errors import ConfigError, RunDirError
from raytrec.plugins import get_registry
from raytrec.run.job import load_job
from raytrec.run.rescore import retriever_config
from raytrec.run.run_dir import stage
from raytrec.run.uri import location
from raytrec.serve.integrity import fingerprints
from raytrec.serve.vectors import EMBEDDINGS, Vectors
from raytrec.tasks.user_item.check import retriever_problems

MANIFEST = "manifest.json"
FORMAT = 1


def export_run(run_dir: Path, out: Path, overrides: list[str],
               retriever_name: str | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Export ``run_dir`` into ``out``; returns the manifest."""
    job = load_job(run_dir)
    config = retriever_config(job.config, overrides, retriever_name, f"{run_dir} with --set")
    vectors = Vectors.from_run(Path(run_dir))
    problems = retriever_problems(config, vectors.num_items, vectors.dim)
    if problems:
        raise ConfigError(problems, f"{run_dir} with --set")
    retriever = get_registry().build("retriever", config.retriever)
    manifest: dict[str, Any] = {}

    def fill(staging: Path) -> None:
        data_dir = Path(job.data_dir)
        for name in EMBEDDINGS.values():
            shutil.copyfile(Path(run_dir) / name, staging / name)
        for name in ("users.parquet", "items.parquet", "item_features.parquet"):
            if (data_dir / name).is_file():  # item features only where the data has them
                shutil.copyfile(data_dir / name, staging / name)
        users, items = vectors.seen_pairs()
        pq.write_table(pa.table({"user": users, "item": items}), staging / "seen.parquet")
        retriever.build(vectors.items, vectors.distance)
        manifest.update({
            "format": FORMAT, "raytrec_version": version("raytrec"),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "run_dir": location(run_dir),
            "config_sha256": config_hash(Path(run_dir) / "config.yaml"),
            "distance": vectors.distance.name, "dim": vectors.dim,
            "num_users": vectors.num_users, "num_items": vectors.num_items,
            "retriever": config.retriever.to_dict(),
            "index": {"build_seconds": round(retriever.stats.build_seconds, 3),
                      **retriever.save(staging)}})
        manifest["files"] = fingerprints(staging, MANIFEST)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))

    stage(out, "export", fill, overwrite, flag="--out")
    return manifest


def config_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{path} cannot be read ({exc}); export the run again with "
                          "raytrec export RUN_DIR --out DIR") from None
    if manifest.get("format") != FORMAT:
        raise RunDirError(f"{path} is format {manifest.get('format')!r}, this raytrec reads "
                          f"format {FORMAT}; export the run again with this raytrec")
    return manifest
