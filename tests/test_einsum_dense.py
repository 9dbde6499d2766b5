"""HEinsumDense beyond the common layer checks: its geometry against brute force, equations of every kind of letter
(positions, groups, several terms and outputs, ellipsis, a bias on inner axes) bit-exact through hls4ml, and what
hls4ml cannot build refused by name."""

import itertools

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HEinsumDense, HQuantize
from hgq.families.kernel.einsum_geometry import EinsumGeometry
from hgq.proxy import convert_to_hls4ml

from bitexact import SideBySide, check_bit_exact

#: (equation, input features, output_shape, bias_axes): positions only; a group letter (b, its own kernel slice per
#: value); two terms and two outputs; an ellipsis; a bias on an inner axis.
EQUATIONS = [
    ("abc,cd->abd", (3, 4), (3, 5), "d"),
    ("abc,bcd->abd", (3, 4), (3, 2), "bd"),
    ("abcd,cde->abe", (2, 3, 4), (2, 5), None),
    ("...b,bc->...c", (2, 3, 4), (2,), "c"),
    ("abc,cd->adb", (3, 4), (2, 3), "d"),
]


def brute_force_weight_input_bits(equation, in_bits, kernel_shape):
    """For each weight, the sum of the input widths it multiplies: every index assignment of np.einsum's letters."""
    geometry = EinsumGeometry(equation, in_bits.shape[1:], kernel_shape)
    letters = sorted(set(geometry.inp + geometry.ker))
    out = np.zeros(kernel_shape)
    for values in itertools.product(*(range(geometry.size[c]) for c in letters)):
        at = dict(zip(letters, values))
        out[tuple(at[c] for c in geometry.ker)] += in_bits[tuple(at[c] for c in geometry.inp)]
    return out


@pytest.mark.once
@pytest.mark.parametrize("equation, shape, output_shape, bias_axes", EQUATIONS + [("abc,cd->ad", (3, 4), (5,), None)])
def test_geometry_against_brute_force(equation, shape, output_shape, bias_axes):
    rng = np.random.default_rng(0)
    layer = HEinsumDense(equation, output_shape, bias_axes=bias_axes)
    layer.build((None, *shape))
    in_bits = rng.integers(0, 9, (1, *shape)).astype("float32")
    got = np.asarray(layer.weight_input_bits(keras.ops.convert_to_tensor(in_bits)))
    expected = brute_force_weight_input_bits(equation, in_bits, tuple(layer.kernel.shape))
    np.testing.assert_array_equal(np.broadcast_to(got, expected.shape), expected)
    # the matrix view computes the einsum
    geometry = EinsumGeometry(equation, shape, layer.kernel.shape)
    x, w = rng.normal(size=shape), rng.normal(size=layer.kernel.shape)
    product = geometry.output_features(geometry.columns(x) @ geometry.kernel_matrix(w))
    np.testing.assert_allclose(product, np.einsum(equation, x[None], w)[0], rtol=1e-12)


def einsum_model(equation, shape, output_shape, bias_axes, seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape)
    layer = HEinsumDense(equation, output_shape, bias_axes=bias_axes, activation="relu" if bias_axes else None,
                         beta=1e-5, name="e")
    model = keras.Model(inp, layer(HQuantize(paq_conf={"init_bw": 4}, name="q")(inp)))
    rng = np.random.default_rng(seed)
    for v in model.trainable_weights:
        if v.path.endswith("fractional_bits"):
            v.assign(rng.integers(1, 5, v.shape).astype(v.dtype))
    x = rng.normal(size=(1000, *shape)).astype("float32")
    hgq.trace_minmax(model, x)
    return model, layer, x


def proxy_case(equation, shape, output_shape, bias_axes):
    model, _, x = einsum_model(equation, shape, output_shape, bias_axes)
    return model, hgq.to_proxy_model(model), x


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every equation's proxy, compiled side by side as one hls4ml project."""
    projects = SideBySide(tmp_path_factory.mktemp("test_einsum_dense"))
    for case in EQUATIONS:
        projects.add(case, lambda case=case: proxy_case(*case))
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_einsum_dense")  # the worker that compiles the shared project checks every equation
@pytest.mark.parametrize("equation, shape, output_shape, bias_axes", EQUATIONS)
def test_equations_are_bit_exact_with_hls4ml(equation, shape, output_shape, bias_axes, projects):
    model, proxy, x, part = projects((equation, shape, output_shape, bias_axes))
    layer = model.get_layer("e")
    # BOPs: each weight's width times the widths of the inputs it multiplies, over every position
    in_bits = np.asarray(layer.input_bits())
    w_bits = np.asarray(layer.weight_bits())
    expected = brute_force_weight_input_bits(equation, np.broadcast_to(in_bits, (1, *shape)), w_bits.shape)
    assert layer.bops() == float(np.sum(expected * w_bits))
    assert type(proxy.get_layer("e")) is keras.layers.EinsumDense
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


def test_what_hls4ml_cannot_build_is_refused_by_name(tmp_path):
    model, _, x = einsum_model("abc,cd->ad", (3, 4), (5,), None)  # b: summed in the input only
    proxy = hgq.to_proxy_model(model)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"hls4ml cannot build layer 'e' \(EinsumDense\): its equation "
                                         r"'abc,cd->ad' sums b in one operand only"):
        convert_to_hls4ml(proxy, tmp_path / "prj")
    proxy = hgq.to_proxy_model(einsum_model(*EQUATIONS[0])[0])
    with pytest.raises(ValueError, match=r"hls4ml has no io_stream implementation of layer 'e' \(EinsumDense\); use "
                                         r"io_type='io_parallel'"):
        convert_to_hls4ml(proxy, tmp_path / "prj", io_type="io_stream")
    with pytest.raises(ValueError, match=r"hls4ml has no Resource implementation of layer 'e' \(EinsumDense\); use "
                                         r"strategy 'latency' or 'distributed_arithmetic'"):
        convert_to_hls4ml(proxy, tmp_path / "prj", strategy="resource")


@pytest.mark.parametrize("objective", ["parameters", "bops"])
def test_pruned_by_the_optimization(objective):
    """An HEinsumDense is pruned weight by weight (its spec's structure), by parameters or by BOPs, and its pruned
    weights cost no BOPs. One step, straight to half (the loop's schedules: tests/test_optimization_loop.py)."""
    from hgq.optimization.attributes import get_attributes_from_keras_model
    from hgq.optimization.keras import optimize_model
    from hgq.optimization.objectives import ParameterEstimator
    from hgq.optimization.objectives.bops import BOPsEstimator
    from hgq.optimization.scheduler import ConstantScheduler

    model, layer, x = einsum_model(*EQUATIONS[0])
    bops = layer.bops()
    y = np.random.default_rng(1).normal(size=(len(x), *model.output_shape[1:])).astype("float32")
    attributes = get_attributes_from_keras_model(model)
    estimator = ParameterEstimator if objective == "parameters" else BOPsEstimator
    pruned = optimize_model(model, attributes, estimator, ConstantScheduler(0.5, 0.5, 0.5), x, y, x, y,
                            batch_size=128, epochs=2, optimizer=keras.optimizers.Adam(1e-3), loss_fn="mse",
                            validation_metric=keras.metrics.MeanSquaredError(), increasing=False, rtol=0.5,
                            tuner=None)
    kernel = np.asarray(pruned.get_layer("e").kernel)
    hgq.trace_minmax(pruned, x)
    pruned_layer = pruned.get_layer("e")
    assert np.all(hgq.cost.weight_bops(pruned_layer)[kernel == 0] == 0)
    if objective == "parameters":
        assert np.mean(kernel == 0) >= 0.3
    else:  # half the BOPs (the widest weights first): measured 0.48x
        assert pruned_layer.bops() <= 0.6 * bops
