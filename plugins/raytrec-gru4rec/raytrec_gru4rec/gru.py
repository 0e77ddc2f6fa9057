"""The GRU4Rec network: a GRU over a session's items, scored against output item vectors.

It follows the reference implementation (Hidasi's official GRU4Rec, its PyTorch port):

- input: the item one-hot (``embedding: 0``; its product with the input weights is a row of
  an ``(I, 3H)`` table), a learnt item embedding of size ``embedding``, or with
  ``constrained_embedding`` the item's output vector itself (the input and output tables are
  one, of the last layer's size);
- ``layers``: the GRU's hidden sizes, one per layer;
- dropout on the input embedding (``dropout_embedding``) and on every layer's output
  (``dropout_hidden``) applied here, between the cells: ``torch.nn.GRU``'s own ``dropout``
  acts between layers only and does nothing with one layer;
- the query is ``final_activation(h)`` of the last layer; an item j scores
  ``query · W_j + b_j``. Queries carry a trailing 1 and item vectors their bias, so any
  ``dot`` index serves them (``dim`` is the last layer's size + 1).

The hidden state is the caller's: ``step`` takes it and returns the next one, zeroing first the
rows whose ``reset`` is set (a slot that starts a new session).

The item tables (output vectors, their biases as an ``(I, 1)`` table, the input embedding or
one-hot projection) are read by row only, through ``lookup`` (the mapper's ``ItemModel.lookup``)
or an ``nn.Embedding``: they are the mapper's ID tables, row-sparse and shardable like any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from raytrec.api import ArgumentError

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: x,
    "tanh": torch.tanh,
    "relu": F.relu,
    "elu": F.elu,
    "leaky-0.1": lambda x: F.leaky_relu(x, 0.1),
}

Hidden = list[torch.Tensor]


@dataclass
class SessionOutput:
    """One step of a session model: the queries after each slot's input, the vectors of the
    targets and of the negatives (``(B, N, D)`` or ``(N, D)`` as their ids were), and the
    hidden state after the step."""

    query: torch.Tensor
    target: torch.Tensor
    negatives: torch.Tensor
    hidden: Hidden


class GRUCell(nn.Module):
    """One GRU layer whose input projection ``x W_x`` comes from ``project_input``."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.w_h = nn.Linear(hidden, 3 * hidden)

    def forward(self, x_proj: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        xr, xz, xn = x_proj.chunk(3, dim=1)
        hr, hz, hn = self.w_h(h).chunk(3, dim=1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1 - z) * n + z * h


def check_options(final_activation: str, dropout_embedding: float,
                  dropout_hidden: float) -> None:
    """ValueError naming the first of these options out of range."""
    if final_activation not in ACTIVATIONS:
        raise ArgumentError("final_activation", f"must be one of {', '.join(ACTIVATIONS)}, got "
                            f"{final_activation!r}")
    for name, p in (("dropout_embedding", dropout_embedding), ("dropout_hidden", dropout_hidden)):
        if not 0.0 <= p < 1.0:
            raise ArgumentError(name, f"must be in [0, 1), got {p}")


def _row(table: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    return F.embedding(ids, table)


class GRU4RecNetwork(nn.Module):
    # How the item tables are read; the mapper sets its own ``lookup``.
    lookup: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = staticmethod(_row)

    def __init__(self, num_items: int, layers: list[int], embedding: int = 0,
                 constrained_embedding: bool = False, dropout_embedding: float = 0.0,
                 dropout_hidden: float = 0.0, final_activation: str = "linear",
                 init_std: float | None = None) -> None:
        super().__init__()
        if not layers or any(h < 1 for h in layers):
            raise ArgumentError("layers", f"must list one hidden size >= 1 per layer, got {layers}")
        check_options(final_activation, dropout_embedding, dropout_hidden)
        self.num_items = num_items
        self.layers, self.constrained = list(layers), bool(constrained_embedding)
        self.activation = ACTIVATIONS[final_activation]
        out = layers[-1]
        self.out_items = nn.Parameter(torch.empty(num_items, out))
        self.out_bias = nn.Parameter(torch.zeros(num_items, 1))
        first = 3 * layers[0]
        if self.constrained:
            self.input_proj = nn.Linear(out, first)
        elif embedding > 0:
            self.embed = nn.Embedding(num_items, embedding)
            self.input_proj = nn.Linear(embedding, first)
        else:  # one-hot input: x W_x is the item's row of an (I, 3H) table
            self.onehot_proj = nn.Embedding(num_items, first)
        self.layer_proj = nn.ModuleList(nn.Linear(a, 3 * b) for a, b in pairwise(layers))
        self.cells = nn.ModuleList(GRUCell(h) for h in layers)
        self.drop_embedding = nn.Dropout(dropout_embedding)
        self.drop_hidden = nn.Dropout(dropout_hidden)
        self._init(init_std)

    def _init(self, std: float | None) -> None:
        # The reference initialises every weight uniformly in ±sqrt(6 / (rows + cols)).
        for p in self.parameters():
            if p.dim() == 2 and p is not self.out_bias:
                bound = (6.0 / sum(p.shape)) ** 0.5 if std is None else None
                if bound is None:
                    nn.init.normal_(p, 0.0, std)
                else:
                    nn.init.uniform_(p, -bound, bound)
            else:
                nn.init.zeros_(p)

    def initial_hidden(self, batch: int, device: torch.device) -> Hidden:
        return [torch.zeros(batch, h, device=device) for h in self.layers]

    def _input(self, items: torch.Tensor) -> torch.Tensor:
        if self.constrained:
            return self.input_proj(self.drop_embedding(self.lookup(self.out_items, items)))
        if hasattr(self, "embed"):
            return self.input_proj(self.drop_embedding(self.embed(items)))
        return self.drop_embedding(self.onehot_proj(items))

    def step(self, items: torch.Tensor, hidden: Hidden,
             reset: torch.Tensor | None = None) -> tuple[torch.Tensor, Hidden]:
        """Feed ``items (B,)``: the queries ``(B, H + 1)`` for the next item, and the hidden
        state after them. Rows of ``reset (B,)`` start from a zero state."""
        if reset is not None:
            keep = (~reset).to(hidden[0].dtype).unsqueeze(1)
            hidden = [h * keep for h in hidden]
        x = self._input(items)
        new: Hidden = []
        for i, cell in enumerate(self.cells):
            h = cell(x, hidden[i])
            new.append(h)
            out = self.drop_hidden(h)
            if i + 1 < len(self.cells):
                x = self.layer_proj[i](out)
        query = self.activation(out)
        ones = torch.ones(len(query), 1, dtype=query.dtype, device=query.device)
        return torch.cat([query, ones], dim=1), new

    def forward(self, inputs: torch.Tensor, hidden: Hidden, reset: torch.Tensor,
                targets: torch.Tensor, negatives: torch.Tensor) -> SessionOutput:
        """``step`` and the output vectors of ``targets`` and ``negatives``: the one
        differentiable pass of a training step (DistributedDataParallel sees every use of
        the weights)."""
        query, hidden = self.step(inputs, hidden, reset)
        return SessionOutput(query, self.items(targets), self.items(negatives), hidden)

    def items(self, ids: torch.Tensor) -> torch.Tensor:
        """Output vectors with their bias ``(*ids.shape, H + 1)``."""
        return torch.cat([self.lookup(self.out_items, ids), self.lookup(self.out_bias, ids)],
                         dim=-1)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object) -> None:
        bias = state_dict.get(prefix + "out_bias")
        if bias is not None and bias.dim() == 1:  # saved before the biases were a table
            state_dict[prefix + "out_bias"] = bias.unsqueeze(1)
        super()._load_from_state_dict(state_dict, prefix, *args)  # type: ignore[arg-type]
