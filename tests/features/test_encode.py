"""Feature encoding: vocabularies from training rows, unknown bucket, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from raytrec.features.encode import check_spec, encode
from raytrec.features.module import FeatureEncoder

TABLE = pd.DataFrame({
    "genre": ["drama", "comedy", "drama", "horror", None],
    "tags": [["a", "b"], ["b"], [], ["z"], ["a"]],
    "year": [1990.0, 2000.0, 2010.0, 1980.0, 2000.0],
    "text": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8], [0.9, 1.0]],
})
FIT = np.array([True, True, True, False, True])  # row 3 never appears in training


def test_categorical_unseen_and_missing_map_to_unknown() -> None:
    enc = encode(TABLE, {"categorical": ["genre"]}, FIT, "item")
    assert enc.vocab_sizes == [3]  # unknown + comedy + drama
    assert enc.categorical[:, 0].tolist() == [2, 1, 2, 0, 0]


def test_multi_hot_padding_and_unseen() -> None:
    enc = encode(TABLE, {"multi_hot": ["tags"]}, FIT, "item")
    assert enc.multi_vocab == [3]  # pad/unknown + a + b ("z" only in a non-training row)
    assert enc.multi_hot[0].tolist() == [[1, 2], [2, 0], [0, 0], [0, 0], [1, 0]]


def test_numeric_standardised_on_training_rows() -> None:
    enc = encode(TABLE, {"numeric": ["year"]}, FIT, "item")
    fit_years = np.array([1990.0, 2000.0, 2010.0, 2000.0])
    want = (1980.0 - fit_years.mean()) / fit_years.std()
    assert enc.numeric[3, 0].item() == pytest.approx(want, rel=1e-5)


def test_nan_is_an_error_naming_the_column() -> None:
    bad = TABLE.assign(year=[1990.0, np.nan, 2010.0, 1980.0, 2000.0])
    with pytest.raises(ValueError, match=r"column 'year' holds NaN or inf for 1 items"):
        encode(bad, {"numeric": ["year"]}, FIT, "item")
    bad_dense = TABLE.assign(text=[[0.1, np.inf]] * 5)
    with pytest.raises(ValueError, match="text"):
        encode(bad_dense, {"dense": ["text"]}, FIT, "item")


def test_missing_column_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"\['rating'\] are not in the item feature table"):
        encode(TABLE, {"numeric": ["rating"]}, FIT, "item")


def test_spec_checks() -> None:
    with pytest.raises(ValueError, match="unknown feature kinds"):
        check_spec("item_features", {"catgorical": ["genre"]})
    assert check_spec("item_features", {"numeric": [], "dense": ["text"]}) == {"dense": ["text"]}


def test_encoder_output_shape() -> None:
    spec = {"categorical": ["genre"], "multi_hot": ["tags"], "numeric": ["year"],
            "dense": ["text"]}
    module = FeatureEncoder(encode(TABLE, spec, FIT, "item"))
    out = module(torch.tensor([[0, 3], [4, 1]]))
    assert out.shape == (2, 2, module.out_dim) and module.out_dim == 16 + 16 + 1 + 2
