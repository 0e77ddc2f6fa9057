"""FAISS indexes saved for serving: ``index.faiss`` and the parameters searching needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import faiss
import numpy as np

from raytrec.distance import Distance
from raytrec.retrievers.base import Retriever

INDEX_FILE = "index.faiss"


class FaissFileRetriever(Retriever):
    """A retriever whose ``self.index`` is one FAISS index, written with
    ``faiss.write_index``. ``STATE`` names the attributes (JSON values) that searching needs
    beside it; ``_loaded(items)`` re-derives the rest after loading; ``transform()`` says in
    words how vectors enter the index, for the manifest."""

    STATE: ClassVar[tuple[str, ...]] = ()

    def transform(self) -> str:
        return "none: the index holds the item vectors; queries as they are"

    def save(self, directory: Path) -> dict[str, Any]:
        faiss.write_index(self.index, str(Path(directory) / INDEX_FILE))
        return {"file": INDEX_FILE, "transform": self.transform(),
                **{name: getattr(self, name) for name in self.STATE}}

    def load(self, directory: Path, saved: dict[str, Any], items: np.ndarray,
             distance: Distance | str) -> None:
        self._take(items, distance)
        self.index = faiss.read_index(str(Path(directory) / saved["file"]))
        for name in self.STATE:
            setattr(self, name, saved[name])
        self._loaded(self.items)

    def _loaded(self, items: np.ndarray) -> None:
        """Re-derive, after ``load``, what ``_build`` kept beside the index and ``STATE``."""
