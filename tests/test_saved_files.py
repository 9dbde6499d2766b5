"""``.keras`` files written by hgq 0.1.0 (``tests/fixtures/saved_v0_1``, made by ``make.py`` there) still load:
same outputs, same BOPs per layer, same proxy outputs."""

import json
import pathlib

import keras
import numpy as np
import pytest

import hgq

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "saved_v0_1"


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_files_of_0_1_load_with_the_same_outputs_bops_and_proxy(name):
    model = keras.models.load_model(FIXTURES / f"{name}.keras")
    io = np.load(FIXTURES / f"{name}_io.npz")
    inputs = [io[f"arr_{n}"] for n in range(len(model.inputs))]
    inputs = inputs if len(inputs) > 1 else inputs[0]
    assert np.array_equal(model.predict(inputs, verbose=0), io["model"])
    assert hgq.layer_bops(model) == json.loads((FIXTURES / f"{name}_bops.json").read_text())
    assert np.array_equal(hgq.to_proxy_model(model).predict(inputs, verbose=0), io["proxy"])
