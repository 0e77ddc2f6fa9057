"""The GRU4Rec network: dropout that works with one layer, the constrained embedding, the
hidden state reset, scores in one dot product."""

from __future__ import annotations

import pytest
import torch
from raytrec_gru4rec.gru import GRU4RecNetwork


def net(**kwargs: object) -> GRU4RecNetwork:
    torch.manual_seed(0)
    return GRU4RecNetwork(50, **{"layers": [16], **kwargs})


@pytest.mark.parametrize("where", ["dropout_hidden", "dropout_embedding"])
def test_dropout_acts_with_a_single_layer(where: str) -> None:
    model = net(embedding=8, **{where: 0.5})
    items = torch.arange(10)
    h = model.initial_hidden(10, torch.device("cpu"))
    model.train()
    a, _ = model.step(items, h)
    b, _ = model.step(items, h)
    assert not torch.allclose(a, b)
    model.eval()
    c, _ = model.step(items, h)
    d, _ = model.step(items, h)
    assert torch.equal(c, d)


def test_the_constrained_embedding_feeds_the_output_vectors_as_input() -> None:
    model = net(constrained_embedding=True)
    assert not hasattr(model, "embed") and not hasattr(model, "onehot_proj")
    items = torch.tensor([3, 7])
    q, _ = model.step(items, model.initial_hidden(2, torch.device("cpu")))
    q.sum().backward()  # only the input path reads the output table here
    touched = model.out_items.grad.abs().sum(1).nonzero().flatten().tolist()
    assert touched == [3, 7]


def test_a_reset_row_starts_from_a_zero_state() -> None:
    model = net(layers=[16, 8])
    model.eval()
    h = [torch.randn(3, 16), torch.randn(3, 8)]
    items = torch.tensor([1, 2, 3])
    got, _ = model.step(items, h, reset=torch.tensor([True, False, True]))
    fresh, _ = model.step(items, model.initial_hidden(3, torch.device("cpu")))
    carried, _ = model.step(items, h)
    assert torch.allclose(got[[0, 2]], fresh[[0, 2]])
    assert torch.allclose(got[1], carried[1]) and not torch.allclose(got[1], fresh[1])


def test_a_score_is_the_query_times_the_output_vector_plus_its_bias() -> None:
    model = net(final_activation="tanh")
    with torch.no_grad():
        model.out_bias.copy_(torch.randn(50, 1))
    q, _ = model.step(torch.tensor([4]), model.initial_hidden(1, torch.device("cpu")))
    h = q[0, :-1]
    assert q[0, -1] == 1.0 and bool((h.abs() <= 1).all())
    scores = model.items(torch.arange(50)) @ q[0]
    assert torch.allclose(scores, model.out_items @ h + model.out_bias[:, 0], atol=1e-6)


@pytest.mark.parametrize(("key", "value", "word"), [
    ("layers", [], "layers"), ("final_activation", "softmax", "final_activation"),
    ("dropout_hidden", 1.0, "dropout_hidden")])
def test_bad_arguments_are_named(key: str, value: object, word: str) -> None:
    with pytest.raises(ValueError, match=f"^{word}"):
        GRU4RecNetwork(10, **{"layers": [4], key: value})
