"""Masks, rankings (oracle, saliency), group regularizers and the Manual regularization, without long training."""

import keras
import numpy as np
import pytest

from hgq.optimization.attributes import get_attributes_from_keras_model
from hgq.optimization.config import SUPPORTED_STRUCTURES
from hgq.optimization.keras import utils
from hgq.optimization.keras.builder import build_optimizable_model, remove_custom_regularizers
from hgq.optimization.keras.masking import get_model_masks, group_map
from hgq.optimization.keras.regularizers import DenseRegularizer
from hgq.optimization.objectives import ParameterEstimator


@pytest.fixture
def model_and_data():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    x = np.random.default_rng(0).normal(size=(40, 6)).astype("float32")
    return model, x, np.arange(40) % 3


def marked(model):
    attrs = get_attributes_from_keras_model(model)
    for layer in model.layers:
        attrs[layer.name].optimizable, attrs[layer.name].optimization_attributes = \
            ParameterEstimator.is_layer_optimizable(attrs[layer.name])
    return attrs


@pytest.mark.parametrize("metric", ["l1", "l2", "oracle", "saliency"])
def test_rankings_give_masks_of_the_target_size(model_and_data, metric):
    model, x, y = model_and_data
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    grads = utils.get_model_gradients(model, loss, x, y) if metric == "oracle" else None
    hess = utils.get_model_hessians(model, loss, x, y) if metric == "saliency" else None
    if grads is not None:
        assert set(grads) == {layer.name for layer in model.layers} and np.any(grads[model.layers[0].name] != 0)
    masks, offsets = get_model_masks(model, marked(model), 0.25, ParameterEstimator, metric, gradients=grads,
                                     hessians=hess, knapsack_solver="greedy")
    kept = sum(m.sum() for m in masks.values())
    assert kept == int(0.75 * (6 * 8 + 8 * 3)) and all(not o.any() for o in offsets.values())


def test_pattern_groups_are_resource_strategy_multipliers():
    class Pattern:
        structure_type, pattern_offset, consecutive_patterns = SUPPORTED_STRUCTURES.PATTERN, 6, 1

    groups = group_map((4, 6), Pattern)  # 24 weights, reuse factor 4: 6 multipliers
    assert np.array_equal(groups.T.reshape(-1), np.repeat(np.arange(6), 4))


def test_group_regularizer_and_manual_tuner(model_and_data):
    model, x, y = model_and_data
    w = keras.ops.convert_to_tensor(np.array([[3.0, 0.0], [4.0, 0.0]], "float32"))
    assert float(DenseRegularizer(1.0, structure_type="structured")(w)) == pytest.approx(5.0, abs=1e-4)
    assert DenseRegularizer.from_config(DenseRegularizer(0.5, 0.1).get_config()).alpha == 0.5
    work = build_optimizable_model(model, marked(model), "adam", "mse", "mse", False, (x, y), (x, y), 8, 1,
                                   tuner="Manual", regularization_range=[1e-3])
    assert isinstance(work.layers[0].kernel.regularizer, DenseRegularizer) and work.losses
    assert model.layers[0].kernel.regularizer is None, "the input model is not modified"
    assert remove_custom_regularizers(work).layers[0].kernel.regularizer is None
