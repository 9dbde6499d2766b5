"""HLayerNormalization: a trained model whose layer normalizations see variances far above and far below the table's
range (inputs scaled down and up by powers of two), on 3-D and 2-D inputs, without offset and without scale, bit-exact
through hls4ml with inputs that overflow and saturate the table; the variance scaling; the table; BOPs and costs;
refusals by name. Its layer checks are in ``test_layers.py``, the float layer's mapping in ``test_quantize_model.py``,
JAX without 64-bit mode in ``test_backends.py``."""

import math

import keras
import numpy as np
import pytest

import hgq
from hgq.cost import layer_costs
from hgq.families.layernorm.arithmetic import MAX_SHIFT, variance_scaling
from hgq.layers import HDense, HLayerNormalization, HQuantize, PConcatenate, PFlatten
from hgq.proxy import LayerNormalization, convert_to_hls4ml
from hgq.quantizer.types import as_numpy

from bitexact import check_bit_exact


def scaling(layer):
    return tuple(int(as_numpy(v)) for v in layer.variance_scaling())


@pytest.fixture(scope="module")
def trained():
    """Two inputs: rows of variance about 64 (normalized without offset) and rows of variance about 1e-4 (normalized
    without scale, flattened: 2-D), each through an HLayerNormalization, trained and calibrated."""
    keras.utils.set_random_seed(0)
    wide_in, narrow_in = keras.Input((4, 12), name="wide"), keras.Input((12,), name="narrow")
    wide = HLayerNormalization(center=False, gamma_initializer=keras.initializers.RandomUniform(0.5, 2.0),
                               name="ln_wide")(
        HQuantize(paq_conf={"init_bw": 3}, name="q_wide")(wide_in))
    wide = PFlatten(name="flat")(HDense(4, name="d_wide")(wide))
    narrow = HLayerNormalization(scale=False, epsilon=1e-5, accum_fractional_bits=14, beta_initializer="random_normal",
                                 name="ln_narrow")(HQuantize(paq_conf={"init_bw": 10}, name="q_narrow")(narrow_in))
    out = HDense(3, name="head")(PConcatenate(name="cat")([wide, narrow]))
    model = keras.Model([wide_in, narrow_in], out)
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(1200, 4, 12)).astype("float32") * 8, rng.normal(size=(1200, 12)).astype("float32") * 0.01]
    y = rng.normal(size=(1200, 3)).astype("float32")
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


@pytest.mark.hls4ml
def test_trained_model_is_bit_exact_with_hls4ml(trained, hls4ml_projects):
    model, x = trained
    (s_wide, p_wide), (s_narrow, p_narrow) = scaling(model.get_layer("ln_wide")), scaling(model.get_layer("ln_narrow"))
    assert s_wide > 0 > s_narrow  # scaled down, and up
    proxy = hgq.to_proxy_model(model)
    assert isinstance(proxy.get_layer("ln_wide"), LayerNormalization)
    assert {"ln_wide_prescale", "ln_narrow_prescale"} <= {layer.name for layer in proxy.layers}
    # at the largest scale the variances pass the table's range: they read its last entry
    assert np.var(3.0 * x[0], axis=-1).max() > 2.0 ** (2 * s_wide - p_wide)
    assert np.var(3.0 * x[1], axis=-1).max() > 2.0 ** (2 * s_narrow - p_narrow)
    check_bit_exact(proxy, x, hls4ml_projects(proxy), model=model, scales=(2.5, 3.0))


def test_close_to_the_float_layer_normalization(trained):
    """Before the output quantizer the firmware's arithmetic is a layer normalization up to its table's step."""
    model, x = trained
    layer = model.get_layer("ln_wide")
    inputs = keras.Model(model.inputs, model.get_layer("q_wide").output).predict(x, verbose=0)[:200]
    gamma = as_numpy(layer.quantized_gamma(False))
    s, _ = scaling(layer)
    epsilon = float(layer.arithmetic.epsilon()) * 4.0**s
    reference = (inputs - inputs.mean(-1, keepdims=True)) / np.sqrt(inputs.var(-1, keepdims=True) + epsilon) * gamma
    firmware = as_numpy(layer.firmware(inputs, gamma, np.zeros_like(gamma)))
    assert np.max(np.abs(firmware - reference)) < 0.05 * np.max(np.abs(reference))


@pytest.mark.parametrize("variance", [1e-9, 2.0**-7, 0.3, 0.5, 1.0, 6.49, 2.0**10, 2.0**31])
def test_the_scaled_variance_lies_in_the_upper_half_of_the_table_range(variance):
    s, p = (int(as_numpy(v)) for v in variance_scaling(variance))
    assert p in (0, 1) and abs(s) <= MAX_SHIFT
    assert 2.0 ** (-p - 1) <= variance * 4.0**-s < 2.0**-p


@pytest.mark.parametrize("variance", [0.0, float("-inf")])  # all rows constant; never recorded
def test_no_positive_variance_is_not_scaled(variance):
    assert tuple(int(as_numpy(v)) for v in variance_scaling(variance)) == (0, 0)


def test_the_table_holds_one_over_the_square_root_of_epsilon_plus_the_variance():
    layer = HLayerNormalization(epsilon=1e-3, table_size=64, table_bits=12, name="ln")
    layer.build((None, 8))
    t, a = layer.arithmetic.table_t, layer.arithmetic
    assert (t.k, t.i, t.f, t.rounding, t.overflow) == (0, 5, 7, "RND", "SAT")  # 1 / sqrt(1e-3) = 31.6
    for p in (0, 1):
        variances = 1e-3 + 2.0**-p * np.arange(64) / 64
        assert np.max(np.abs(a.table(p) - 1 / np.sqrt(variances))) <= 2.0**-8 + 1e-9  # half a step
        assert np.all(np.diff(a.table(p)) <= 0)


def test_bops_and_costs(trained):
    model, _ = trained
    layer = model.get_layer("ln_wide")
    s, _ = scaling(layer)
    i = np.max(as_numpy(model.get_layer("q_wide").output_kif()[1])) - s
    accum = 1 + max(i + 4, 2 * i + 2 + 4, 1) + layer.accum_fractional_bits  # 12 elements a row: 4 more bits
    table = layer.table_bits
    scale_bits = float(np.sum(as_numpy(layer.kq.bits(layer.quantized_gamma(False)))))
    rows, dim = 4, 12
    expected = rows * ((2 + dim) * accum**2 + dim * accum * table + (accum + table) * scale_bits)
    assert layer.bops() == pytest.approx(expected, rel=1e-6) and scale_bits > 0
    in_kif = tuple(np.broadcast_to(as_numpy(a), (1, 4, 12)) for a in model.get_layer("q_wide").output_kif())
    costs = layer_costs(layer, [in_kif])
    assert costs.bops == pytest.approx(expected, rel=1e-6) and costs.params == 2 * dim + layer.table_size
    narrow = model.get_layer("ln_narrow")
    assert narrow.quantizers() == [narrow.vq, narrow.paq]  # no scale: nothing to quantize, no product by it


def test_refusals_name_the_layer_and_the_option():
    with pytest.raises(ValueError, match=r"HLayerNormalization 'ln': axis=1; hls4ml normalizes over the last axis"):
        HLayerNormalization(axis=1, name="ln")
    for epsilon in (0.5, 0.0, "small"):
        with pytest.raises(ValueError, match=rf"HLayerNormalization 'ln': epsilon={epsilon!r}; hls4ml's layer "
                                             r"normalization takes an epsilon of 10\^-e with e from 1 to 37"):
            HLayerNormalization(epsilon=epsilon, name="ln")
    with pytest.raises(ValueError, match=r"HLayerNormalization 'ln': table_size must be an integer in \[2, 65536\]"):
        HLayerNormalization(table_size=1, name="ln")


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize("kwargs, message", [
    ({"rms_scaling": True}, "has rms_scaling=True; hls4ml's layer normalization subtracts the mean"),
    ({"axis": 1}, r"normalizes over axis=\[1\]; hls4ml normalizes over the last axis only")])
def test_quantize_model_refuses_what_hls4ml_cannot_compute(kwargs, message):
    inp = keras.Input((4, 6))
    model = keras.Model(inp, keras.layers.LayerNormalization(name="norm", **kwargs)(inp))
    with pytest.raises(ValueError, match=rf"quantize_model: LayerNormalization 'norm' {message}"):
        hgq.quantize_model(model)


def test_export_refuses_arithmetic_wider_than_float64():
    keras.utils.set_random_seed(0)
    inp = keras.Input((8,))
    ln = HLayerNormalization(accum_fractional_bits=24, table_bits=24, name="ln")
    model = keras.Model(inp, ln(HQuantize(paq_conf={"init_bw": 8}, name="q")(inp)))
    hgq.trace_minmax(model, np.random.default_rng(0).normal(size=(64, 8)).astype("float32") * 1000)
    with pytest.raises(ValueError, match=r"to_proxy_model: HLayerNormalization 'ln' computes values of up to \d+ bits "
                                         r".*more than float64 holds exactly \(53\); lower accum_fractional_bits"):
        hgq.to_proxy_model(model)
    assert math.isfinite(hgq.total_bops(model))


def test_io_stream_is_refused_by_name(trained, tmp_path):
    """hls4ml has no streamed layer normalization: refused before anything is written."""
    model, _ = trained
    with pytest.raises(ValueError, match=r"hls4ml has no io_stream implementation of layer 'ln_wide' "
                                         r"\(LayerNormalization\)"):
        convert_to_hls4ml(hgq.to_proxy_model(model), tmp_path / "prj", io_type="io_stream")
    assert not (tmp_path / "prj").exists()
