"""The Yoochoose sample that ships in the ``transformers4rec==23.12.0`` sdist.

``transformers4rec/data/testing/data.parquet``: 1,000 sessions (3,926 clicks on 1,725 items,
2 to 63 clicks each) of the RecSys Challenge 2015 click log, 1–8 April 2014, one row per
session with its items (``item_id/list``) and their Unix times (``ts/list``), as NVIDIA's
tests use them. PyPI has no wheel of that release, and pip cannot download the sdist (it
declares a direct-URL dependency), so the archive is fetched once from its pinned PyPI URL,
checked against its sha256, and read in place.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tarfile
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from raytrec.api import DataError

logger = logging.getLogger(__name__)

SDIST = "transformers4rec-23.12.0.tar.gz"
URL = ("https://files.pythonhosted.org/packages/37/62/"
       "4381899528c996452665db85027914ba7ad845f99569fe0c41e75592ed9e/" + SDIST)
SHA256 = "b7a892aa29ec110d158dff60af4928a40b910c247f2447d50268050c3576bf5e"
MEMBER = "transformers4rec-23.12.0/transformers4rec/data/testing/data.parquet"
TIMEOUT_S = 120


def fetch_sdist(cache: Path) -> Path:
    """The cached sdist, downloaded and checked if it is not there yet."""
    target = cache / SDIST
    if target.is_file():
        return target
    hint = f"put {SDIST} into {cache}, or give path: to its data.parquet"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(URL, timeout=TIMEOUT_S) as response:
            body = response.read()
    except OSError as exc:
        raise DataError(f"downloading {URL} failed ({exc}); {hint}") from exc
    digest = hashlib.sha256(body).hexdigest()
    if digest != SHA256:
        raise DataError(f"{URL} has sha256 {digest}, not the pinned {SHA256}; {hint}")
    fd, tmp = tempfile.mkstemp(prefix=".t4r-download-", dir=cache)
    with os.fdopen(fd, "wb") as out:
        out.write(body)
    os.replace(tmp, target)  # atomic: the cache never holds half an archive
    logger.info("cached the Yoochoose sample (%s) at %s", SDIST, target)
    return target


def read_sample(path: Path) -> pd.DataFrame:
    """Click events (session, item, timestamp) from the sdist or from its data.parquet."""
    try:
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as archive:
                member = archive.extractfile(MEMBER)
                if member is None:
                    raise DataError(f"{path} has no {MEMBER}")
                frame = pd.read_parquet(io.BytesIO(member.read()))
        else:
            frame = pd.read_parquet(path)
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise DataError(f"cannot read the Yoochoose sample from {path}: {exc}") from exc
    missing = {"session_id", "item_id/list", "ts/list"} - set(frame.columns)
    if missing:
        raise DataError(f"{path} has no column {', '.join(sorted(missing))}: it is not the "
                        "transformers4rec Yoochoose sample")
    lengths = frame["item_id/list"].map(len).to_numpy()
    return pd.DataFrame({
        "session": np.repeat(frame["session_id"].to_numpy(), lengths),
        "item": np.concatenate(frame["item_id/list"].to_numpy()).astype(np.int64),
        "timestamp": np.concatenate(frame["ts/list"].to_numpy()).astype(np.float64),
    })
