"""Exact search as a chunked matrix product in torch, on the worker's GPU when it has one."""

from __future__ import annotations

import numpy as np
import torch

from raytrec.errors import ArgumentError
from raytrec.retrievers.base import Retriever

CELLS = 1 << 26


class TorchExactRetriever(Retriever):
    """Brute-force exact top-k: each chunk of queries is scored against every item in one
    matrix product and ``torch.topk`` keeps the best; ``-|q - x|²`` is expanded as
    ``2 q·x - |x|² - |q|²`` so no (queries, items, D) tensor is formed.

    Args:
        device: ``auto`` (CUDA when the process has a GPU, else the CPU), ``cpu``, ``cuda``
            or ``cuda:N``.
        chunk: most queries scored per matrix product; fewer when ``chunk × items`` scores
            would pass ``CELLS`` (256 MiB).
    """

    exact = True

    def __init__(self, device: str = "auto", chunk: int = 1024) -> None:
        if device != "auto" and not (device == "cpu" or device.startswith("cuda")):
            raise ArgumentError("device", f"must be auto, cpu, cuda or cuda:N, got {device!r}")
        if chunk < 1:
            raise ArgumentError("chunk", f"must be >= 1, got {chunk}")
        self.device_name, self.chunk = device, chunk

    def check(self, num_items: int, dim: int, k: int) -> None:
        if self.device_name.startswith("cuda") and not torch.cuda.is_available():
            raise ArgumentError("device",
                                f"device={self.device_name!r} but this machine has no CUDA "
                                "device; use device: auto or cpu")

    def _build(self, items: np.ndarray) -> None:
        name = self.device_name
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(name)
        self.scores = self.distance.tensor_scorer(torch.from_numpy(items).to(self.device))

    @torch.no_grad()
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = int(min(k, self.num_items))
        rows = max(1, min(self.chunk, CELLS // self.num_items))
        out_s, out_i = [], []
        for start in range(0, len(queries), rows):
            q = torch.from_numpy(np.ascontiguousarray(
                queries[start:start + rows], dtype=np.float32)).to(self.device)
            s, i = torch.topk(self.scores(q), k, dim=1)
            out_s.append(s.cpu().numpy())
            out_i.append(i.cpu().numpy())
        return np.concatenate(out_s), np.concatenate(out_i).astype(np.int64)
