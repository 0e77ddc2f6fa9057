"""The ``gru4rec`` mapper: the GRU4Rec network as a raytrec mapper of the ``session`` task.

A session model is an ``ItemModel`` (item vectors compared by dot product: what the
optimiser, checkpoints and the item index work on) whose queries come from a recurrent state:
``initial_hidden`` starts it, ``forward(inputs, hidden, reset, targets, negatives)`` steps it
(``raytrec_gru4rec.gru.SessionOutput``).
"""

from __future__ import annotations

from abc import abstractmethod

import torch

from raytrec.api import DOT, ArgumentError, DataInfo, ItemModel
from raytrec_gru4rec.gru import GRU4RecNetwork, Hidden, SessionOutput, check_options


class SessionMapper(ItemModel):
    """Base class of the mappers the ``session`` task trains."""

    distance = DOT

    @abstractmethod
    def initial_hidden(self, batch: int, device: torch.device) -> Hidden:
        """The state of ``batch`` slots before their sessions' first event."""

    @abstractmethod
    def forward(self, inputs: torch.Tensor, hidden: Hidden, reset: torch.Tensor,
                targets: torch.Tensor, negatives: torch.Tensor) -> SessionOutput:
        """One step: feed ``inputs (B,)`` (rows of ``reset`` from a zero state); the queries
        for the next item, the vectors of ``targets`` and ``negatives``, the next state."""

    @abstractmethod
    def step(self, inputs: torch.Tensor, hidden: Hidden,
             reset: torch.Tensor | None = None) -> tuple[torch.Tensor, Hidden]:
        """The queries ``(B, dim)`` after ``inputs`` and the next state, without item vectors
        (evaluation)."""


class GRU4RecMapper(SessionMapper):
    """GRU4Rec (Hidasi et al. 2016; Hidasi & Karatzoglou 2018): ``raytrec_gru4rec.gru``.

    Args:
        hidden: units of each GRU layer (the reference's ``layers=[100]``).
        layers: how many GRU layers.
        embedding: size of a learnt input embedding; 0 feeds the one-hot item.
        constrained_embedding: the input embedding is the output item table (the
            reference's default for its tuned configurations).
        dropout_embedding, dropout_hidden: dropout on the input embedding and on each
            layer's output; both act with one layer.
        final_activation: applied to the last layer's output: linear, tanh, relu, elu or
            leaky-0.1.
        init_std: normal initialisation's standard deviation; None: the reference's
            uniform ±sqrt(6 / (rows + cols)).
    """

    def __init__(self, hidden: int = 100, layers: int = 1, embedding: int = 0,
                 constrained_embedding: bool = True, dropout_embedding: float = 0.0,
                 dropout_hidden: float = 0.0, final_activation: str = "linear",
                 init_std: float | None = None) -> None:
        super().__init__()
        if hidden < 1:
            raise ArgumentError("hidden", f"must be >= 1, got {hidden}")
        if layers < 1:
            raise ArgumentError("layers", f"must be >= 1, got {layers}")
        if embedding < 0:
            raise ArgumentError("embedding", f"must be >= 0 (0: one-hot input), got {embedding}")
        check_options(final_activation, dropout_embedding, dropout_hidden)
        if init_std is not None and not init_std > 0:
            raise ArgumentError("init_std", f"must be > 0 or null, got {init_std}")
        self.options = dict(layers=[hidden] * layers, embedding=embedding,
                            constrained_embedding=constrained_embedding,
                            dropout_embedding=dropout_embedding,
                            dropout_hidden=dropout_hidden, final_activation=final_activation,
                            init_std=init_std)
        self.dim = hidden + 1  # the query's trailing 1 meets each item's bias
        inputs = () if constrained_embedding else \
            ("network.embed.weight",) if embedding else ("network.onehot_proj.weight",)
        self.id_tables = ("network.out_items", "network.out_bias", *inputs)

    def setup(self, info: DataInfo) -> None:
        self.num_items = info.num_items
        self.network = GRU4RecNetwork(info.num_items, **self.options)
        self.network.lookup = self.lookup  # the item tables read as ID tables

    def initial_hidden(self, batch: int, device: torch.device) -> Hidden:
        return self.network.initial_hidden(batch, device)

    def forward(self, inputs: torch.Tensor, hidden: Hidden, reset: torch.Tensor,
                targets: torch.Tensor, negatives: torch.Tensor) -> SessionOutput:
        return self.network(inputs, hidden, reset, targets, negatives)

    def step(self, inputs: torch.Tensor, hidden: Hidden,
             reset: torch.Tensor | None = None) -> tuple[torch.Tensor, Hidden]:
        return self.network.step(inputs, hidden, reset)

    def items(self, ids: torch.Tensor) -> torch.Tensor:
        return self.network.items(ids)
