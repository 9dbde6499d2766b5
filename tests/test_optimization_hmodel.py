"""H-models pruned by the optimization loop stay bit-exact with hls4ml, pruned weights cost no BOPs, and BOPs
pruning holds its budget in the BOPs that ``trace_minmax`` measures (kept weights do not widen)."""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HDense, HQuantize
from hgq.optimization.attributes import get_attributes_from_keras_model
from hgq.optimization.keras import optimize_model
from hgq.optimization.keras.widths import CappedFractionalBits, KernelRange, hold_widths, release_widths
from hgq.optimization.objectives import ParameterEstimator
from hgq.optimization.objectives.bops import BOPsEstimator
from hgq.optimization.scheduler import PolynomialScheduler

from bitexact import SideBySide, check_bit_exact

# whole pruning runs: the masks, objectives and layers they rely on are tested on every backend elsewhere
pytestmark = pytest.mark.once

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def bits(layer):
    return keras.ops.convert_to_numpy(layer.weight_bits())


@pytest.fixture(scope="module")
def digits_and_model():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = (x[order] / 16).astype("float32"), y[order]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), HQuantize(), HDense(32, activation="relu", beta=1e-5),
                              HDense(10, beta=1e-5)])
    model.compile(keras.optimizers.Adam(3e-3), LOSS, metrics=["accuracy"])
    model.fit(x[:1200], y[:1200], epochs=20, batch_size=64, verbose=0)
    return x, y, model, hgq.trace_minmax(model, x[:1200])


def test_held_widths_never_grow(digits_and_model):
    """Whatever training does to a held kernel (here: any new values, fractional bits pushed up or down), no
    weight's width exceeds its width when the widths were held; releasing restores the original constraints."""
    _, _, model, _ = digits_and_model
    work = keras.models.clone_model(model)
    work.set_weights(model.get_weights())
    layer = work.layers[1]
    before = bits(layer)
    kernel_constraint, f_constraint = layer.kernel.constraint, layer.kq.fbits.constraint
    hold_widths(work, {layer.name})
    assert isinstance(layer.kernel.constraint, KernelRange)
    assert isinstance(layer.kq.fbits.constraint, CappedFractionalBits)
    rng = np.random.default_rng(0)
    f_held = np.asarray(layer.kq.fbits)
    for scale, df in ((0.01, 3), (0.3, 3), (3.0, 3), (0.3, -3), (3.0, -3)):
        kernel = np.asarray(layer.kernel)
        layer.kernel.assign(layer.kernel.constraint(kernel + rng.normal(scale=scale, size=kernel.shape)))
        layer.kq.fbits.assign(layer.kq.fbits.constraint(f_held + rng.uniform(min(df, 0), max(df, 0), f_held.shape)))
        assert np.all(bits(layer) <= before)
        assert np.any(bits(layer) > 0)
    release_widths(work)
    assert layer.kernel.constraint is kernel_constraint and layer.kq.fbits.constraint is f_constraint


def pruned_case(digits_and_model, objective):
    """``(pruned, proxy, x)``: the trained model pruned to half its parameters or BOPs, calibrated, its proxy."""
    x, y, model, _ = digits_and_model
    # widths held: smaller steps keep the metric within the 0.95 (2 steps suffice for parameters)
    steps, rtol = (5, 0.95) if objective is BOPsEstimator else (2, 0.9)
    keras.utils.set_random_seed(1)
    pruned = optimize_model(model, get_attributes_from_keras_model(model), objective,
                            PolynomialScheduler(steps, final_sparsity=0.5), x[:1200], y[:1200], x[1200:1500],
                            y[1200:1500], 64, 6, keras.optimizers.Adam(3e-3), LOSS, "accuracy", True, rtol, tuner=None,
                            hold_bit_widths=objective is BOPsEstimator)
    hgq.trace_minmax(pruned, x[:1200])
    return pruned, hgq.to_proxy_model(pruned), x[:1000]


@pytest.fixture(scope="module")
def pruned_projects(digits_and_model, tmp_path_factory):
    """Both pruned models' proxies, compiled side by side as one hls4ml project."""
    projects = SideBySide(tmp_path_factory.mktemp("test_optimization_hmodel"))
    for objective in (ParameterEstimator, BOPsEstimator):
        projects.add(objective, functools.partial(pruned_case, digits_and_model, objective))
    return projects


@pytest.mark.xdist_group("test_optimization_hmodel")  # the worker that compiles the shared project checks both
@pytest.mark.parametrize("objective", [ParameterEstimator, BOPsEstimator])
def test_pruned_h_model_is_bit_exact(digits_and_model, pruned_projects, objective):
    x, y, model, bops_before = digits_and_model
    pruned, proxy, x_check, part = pruned_projects(objective)
    bops_after = hgq.total_bops(pruned)  # as calibrated on x[:1200]
    last = [s for s in pruned.optimization_history if s.accepted][-1]
    assert last.target == pytest.approx(0.5)
    for layer in pruned.layers[1:]:
        kernel = np.asarray(layer.kernel)
        assert np.all(bits(layer)[kernel == 0] == 0), "a pruned weight must have zero bits"
    if objective is ParameterEstimator:
        assert np.mean([(np.asarray(layer.kernel) == 0).mean() for layer in pruned.layers[1:]]) >= 0.4
    else:  # the knapsack kept half the BOPs and kept weights did not widen: measured BOPs down by the target
        assert last.resources <= 0.5 + 1e-9
        assert bops_after <= 0.55 * bops_before  # margin: the input widths (activations) are not held
        accuracy = [m.evaluate(x[1500:], y[1500:], verbose=0)[1] for m in (model, pruned)]
        assert accuracy[1] >= 0.95 * accuracy[0]
    assert bops_after < bops_before
    check_bit_exact(proxy, x_check, part, model=pruned, scales=(2.5, 4.0))


def test_holding_widths_needs_an_objective_of_bit_widths(digits_and_model):
    x, y, model, _ = digits_and_model
    with pytest.raises(ValueError, match=r"hold_bit_widths=True .* those of ParameterEstimator do not"):
        optimize_model(model, get_attributes_from_keras_model(model), ParameterEstimator, PolynomialScheduler(2),
                       x, y, x, y, 64, 2, keras.optimizers.Adam(), LOSS, "accuracy", True, 0.9, tuner=None,
                       hold_bit_widths=True)
