"""Which models ``optimize_model`` takes: nested sub-models are pruned inside (every walk keyed by layer path),
subclassed models and layer types without a spec are refused by name up front, and the default tuner runs with
what ``hgq-keras[optimization]`` installs (keras-tuner, and tensorboard, which keras-tuner imports on TensorFlow)."""

import sys

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HDense, HQuantize
from hgq.optimization.attributes import get_attributes_from_keras_model
from hgq.optimization.keras import loop, optimize_model
from hgq.optimization.keras.regularizers import DenseRegularizer
from hgq.optimization.keras.utils import get_model_gradients, get_model_sparsity
from hgq.optimization.keras.widths import KernelRange, hold_widths, release_widths
from hgq.optimization.objectives import BOPsEstimator, ParameterEstimator
from hgq.optimization.objectives.gpu_objectives import GPUFLOPEstimator
from hgq.optimization.scheduler import ConstantScheduler, PolynomialScheduler
from hgq.specs import UnsupportedLayerError


def data(n=64, seed=0):
    """Six features, three classes that a linear model separates."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, np.argmax(x @ rng.normal(size=(6, 3)), axis=1)


def nested(hidden=keras.layers.Dense):
    """``Input -> inner (a functional sub-model: Dense 'hidden') -> Dense 'out'``."""
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, hidden(8, activation="relu", name="hidden")(inner_in), name="inner")
    x = keras.Input((6,))
    return keras.Model(x, keras.layers.Dense(3, name="out")(inner(x)))


def prune(model, objective=ParameterEstimator, epochs=2, **kwargs):
    """One step, straight to half the objective (the loop's schedules: tests/test_optimization_loop.py)."""
    x, y = data()
    keras.utils.set_random_seed(0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return optimize_model(model, get_attributes_from_keras_model(model), objective,
                          ConstantScheduler(0.5, 0.5, 0.5), x, y, x, y, 32, epochs, "adam", loss,
                          "accuracy", True, 0.5, **kwargs)


def test_nested_model_is_pruned_inside(monkeypatch):
    model = nested()
    assert set(get_attributes_from_keras_model(model)) == {"inner/hidden", "out"}
    assert set(get_model_gradients(model, "sparse_categorical_crossentropy", *data(8))) == {"inner/hidden", "out"}
    applied, apply_masks = [], loop._apply_masks

    def record(work, masks, offsets):  # each step's masks; the sub-model's kernel is regularized while pruned
        applied.append(masks)
        assert isinstance(work.get_layer("inner").get_layer("hidden").kernel.regularizer, DenseRegularizer)
        apply_masks(work, masks, offsets)

    monkeypatch.setattr(loop, "_apply_masks", record)
    pruned = prune(model, tuner="Manual", regularization_range=[1e-4])
    steps = pruned.optimization_history
    last = max(i for i, step in enumerate(steps) if step.accepted)
    assert steps[last].target == pytest.approx(0.5) and set(applied[last]) == {"inner/hidden", "out"}
    hidden = pruned.get_layer("inner").get_layer("hidden")
    kernel = keras.ops.convert_to_numpy(hidden.kernel)
    assert np.all(kernel[applied[last]["inner/hidden"] == 0] == 0), "masked weights of the sub-model are zero"
    total, per_layer = get_model_sparsity(pruned)
    assert total >= 0.45 and per_layer["inner/hidden"] > 0
    assert hidden.kernel.regularizer is None and hidden.kernel.constraint is None
    assert model.get_layer("inner").get_layer("hidden").kernel.constraint is None, "the input model is not modified"


def test_nested_h_model_bops_and_held_widths():
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, HDense(4, name="hdense")(HQuantize(name="q")(inner_in)), name="inner")
    x = keras.Input((6,))
    model = keras.Model(x, HDense(3, name="out")(inner(x)))
    hgq.trace_minmax(model, data()[0])
    attrs = get_attributes_from_keras_model(model)["inner/hdense"]
    assert BOPsEstimator.is_layer_optimizable(attrs)[0]
    assert BOPsEstimator.layer_resources(attrs) == [pytest.approx(float(inner.get_layer("hdense").bops()))]
    hold_widths(model, {"inner/hdense"})
    assert isinstance(inner.get_layer("hdense").kernel.constraint, KernelRange)
    release_widths(model)
    assert inner.get_layer("hdense").kernel.constraint is None


def test_nested_model_cannot_shrink():
    with pytest.raises(ValueError, match=r"optimize_model \(GPUFLOPEstimator\): structured reduction cannot "
                                         r"rebuild model .* with nested sub-models \('inner'\)"):
        prune(nested(), GPUFLOPEstimator, tuner=None)


class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(3)

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize("where", ["top", "nested"])
def test_subclassed_models_are_refused(where):
    model = Subclassed(name="custom")
    model(data(2)[0])
    if where == "nested":
        x = keras.Input((6,))
        model = keras.Model(x, keras.layers.Dense(3)(model(x)))
    with pytest.raises(ValueError, match=r"optimize_model: model 'custom' is a subclassed keras.Model \(Subclassed\)"
                                         r".*functional"):
        optimize_model(model, {}, ParameterEstimator, PolynomialScheduler(2), *data(), *data(), 32, 2, "adam",
                       "mse", "accuracy", True, 0.5, tuner=None)


class Doubling(keras.layers.Layer):
    """A layer type that hgq has no spec for."""

    def call(self, x):
        return 2 * x


@pytest.mark.parametrize("hidden", [lambda n, **kw: Doubling(name="hidden"), None],
                         ids=["nested-custom-layer", "lstm"])
def test_layers_without_a_spec_are_refused(hidden):
    if hidden is None:  # one that owns a kernel, as the old check looked for
        model = keras.Sequential([keras.Input((6, 1)), keras.layers.LSTM(4, name="hidden"), keras.layers.Dense(3)])
        kind = "LSTM"
    else:
        model, kind = nested(hidden), "Doubling"
    with pytest.raises(UnsupportedLayerError, match=rf"optimize_model: layer 'hidden' of type {kind} is not "
                                                    "supported"):
        prune(model, tuner=None)


@pytest.mark.parametrize("module", ["keras_tuner", "tensorboard"])
def test_missing_tuner_names_the_extra(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    if module == "tensorboard" and keras.backend.backend() != "tensorflow":
        return  # keras-tuner imports it on TensorFlow only
    with pytest.raises(ImportError, match=rf"{module} is missing\): pip install 'hgq-keras\[optimization\]'"):
        prune(nested(), tuner="Bayesian")


def test_default_tuner(tmp_path):
    """What users run: the default tuner (``"Bayesian"``), with what ``hgq-keras[optimization]`` installs, here
    searching a regularization for the layers of a nested model too (hyperparameters named by layer path). One
    strength per layer: the search stops after its one combination (each trial trains a model anew, seconds each)."""
    pruned = prune(nested(), directory=str(tmp_path), regularization_range=[1e-5])
    assert len(pruned.optimization_history) >= 1 and get_model_sparsity(pruned)[1]["inner/hidden"] > 0
