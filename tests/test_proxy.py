"""Proxy export on the Keras side, calibration, BOPs, and save/load (hls4ml is in test_hls4ml.py)."""

import keras
import numpy as np
import pytest
from keras import ops

import hgq
from hgq.layers import HActivation, HDense, HQuantize
from hgq.proxy import FixedPointQuantizer

from conftest import mlp, trained_mlp


@pytest.fixture(scope="module")
def trained():
    return trained_mlp()


def test_proxy_equals_h_model_inside_the_calibrated_range(trained):
    model, x = trained
    proxy = hgq.to_proxy_model(model)
    assert np.array_equal(model.predict(x, verbose=0), proxy.predict(x, verbose=0))


def test_proxy_holds_plain_keras_layers_and_quantizers(trained):
    proxy = hgq.to_proxy_model(trained[0])
    types = {type(layer) for layer in proxy.layers}
    assert types <= {keras.layers.InputLayer, keras.layers.Dense, keras.layers.Activation, FixedPointQuantizer}
    assert all(layer.dtype == "float64" for layer in proxy.layers if not isinstance(layer, keras.layers.InputLayer))


def test_proxy_quantizer_weights_carry_the_batch_axis(trained):
    proxy = hgq.to_proxy_model(trained[0])
    for q in (layer for layer in proxy.layers if isinstance(layer, FixedPointQuantizer)):
        k, b, i = q.kbi()
        assert k.shape == b.shape == i.shape
        assert k.shape == (1, *q.output.shape[1:])
        assert q.fusible == all(np.unique(a).size == 1 for a in (k, b, i))


@pytest.mark.parametrize("aggressive, mode", [(True, "WRAP"), (False, "SAT")])
def test_aggressive_sets_the_overflow_mode(trained, aggressive, mode):
    proxy = hgq.to_proxy_model(trained[0], aggressive=aggressive)
    assert {q.SAT for q in proxy.layers if isinstance(q, FixedPointQuantizer)} == {mode}


def test_bias_absorbs_round_half_up(trained):
    """Where the output rounds half up and a bias exists, the proxy truncates and shifts the bias."""
    model, _ = trained
    proxy = hgq.to_proxy_model(model)
    rnd = {layer.name: layer.RND for layer in proxy.layers if isinstance(layer, FixedPointQuantizer)}
    assert rnd == {"inp_q": "RND", "dense1_q": "TRN", "dense2_q": "TRN", "act_q": "TRN", "out_q": "TRN"}


def test_refuses_an_uncalibrated_model():
    with pytest.raises(ValueError, match="layer 'inp_q' was never calibrated or trained.*trace_minmax"):
        hgq.to_proxy_model(mlp())


def test_refuses_non_fixed_point_quantizers():
    model, x = trained_mlp(epochs=1, paq_conf={"exact_q_value": False})
    with pytest.raises(ValueError, match="layer 'inp_q' quantizes with exact_q_value=False"):
        hgq.to_proxy_model(model)


def test_refuses_layers_it_cannot_export():
    inp = keras.Input((4,))
    out = keras.layers.Dense(2, name="plain")(HQuantize()(inp))
    model = keras.Model(inp, out)
    hgq.trace_minmax(model, np.ones((4, 4), "float32"))
    with pytest.raises(ValueError, match="layer 'plain' of type Dense cannot be exported"):
        hgq.to_proxy_model(model)


def wide_mlp(bits, scale, seed=1):
    """HQuantize -> HDense -> HDense, every width initialized to ``bits``, calibrated on inputs of about ``scale``;
    returns the model and the inputs."""
    keras.utils.set_random_seed(seed)
    x = (np.random.default_rng(seed).normal(size=(1000, 16)) * scale).astype("float32")
    conf = {"init_bw": bits}
    inp = keras.Input((16,))
    h = HDense(16, activation="relu", kq_conf=conf, paq_conf=conf, name="d1")(HQuantize(paq_conf=conf, name="q")(inp))
    model = keras.Model(inp, HDense(4, kq_conf=conf, paq_conf=conf, name="d2")(h))
    hgq.trace_minmax(model, x)
    return model, x


def test_refuses_an_accumulator_wider_than_float64_holds():
    model, _ = wide_mlp(bits=30, scale=1000.0)
    with pytest.raises(ValueError, match=r"to_proxy_model: layer 'd1' needs a \d+-bit accumulator, but the proxy "
                                         r"computes in float64, exact up to 53 bits"):
        hgq.to_proxy_model(model)


def test_fractional_bits_of_weights_are_counted_as_hls4ml_counts_them():
    """The types of exported layers (hgq.quantizer.intervals, the saturation pass) count a weight's bits as hls4ml
    does, within hls4ml's range (at most 32 fractional bits); beyond it, exactly."""
    from hls4ml.utils.qinterval import _minimal_f

    from hgq.quantizer.types import fewest_fractional_bits

    rng = np.random.default_rng(0)
    f = rng.integers(-8, 33, 2000)  # quantized values of up to 32 fractional bits, as exported weights are
    values = np.concatenate([np.round(rng.normal(size=2000) * 2.0 ** (f + 4)) * 2.0 ** -f,
                             [1.0, -0.75, 3.0, 2.0**-31, 2.0**31, 2.0**-32]])
    values = values[values != 0]
    assert np.array_equal(fewest_fractional_bits(values), _minimal_f(values))
    assert np.array_equal(fewest_fractional_bits([2.0**-40, 2.0**40 + 2.0**-3, 0.0]), [40, 3, -np.inf])


def test_refuses_a_model_without_hgq_layers():
    inp = keras.Input((4,))
    with pytest.raises(ValueError, match="contains no hgq layer"):
        hgq.to_proxy_model(keras.Model(inp, keras.layers.Dense(2)(inp)))


def test_bops_hand_count():
    """Inputs: ufixed<3,1> (range [0, 1.5]) and fixed<4,2> ([-2, 0.75]); kernel bits 2, 3 / 0, 4: 3*2+3*3+4*0+4*4."""
    inp = keras.Input((2,))
    dense = HDense(2, use_bias=False, kq_conf={"init_bw": 2}, name="d")
    model = keras.Model(inp, dense(HQuantize(paq_conf={"init_bw": 2}, name="q")(inp)))
    dense.kernel.assign(np.array([[0.5, -0.75], [0.0, 3.0]], "float32"))
    calibration = np.array([[0.0, -2.0], [1.5, 0.75]], "float32")
    assert hgq.trace_minmax(model, calibration) == 31.0
    assert hgq.layer_bops(model) == {"q": 0.0, "d": 31.0}


def test_trace_minmax_cover_factor_scales_the_ranges():
    model, x = trained_mlp(epochs=1)
    q = model.layers[1].paq
    hgq.trace_minmax(model, x, cover_factor=1.0)
    vmax1 = ops.convert_to_numpy(q.vmax).copy()
    hgq.trace_minmax(model, x, cover_factor=2.0)
    assert np.array_equal(ops.convert_to_numpy(q.vmax), 2 * vmax1)


def test_cover_factor_below_one_makes_the_proxy_overflow():
    model, x = trained_mlp(epochs=1)
    hgq.trace_minmax(model, x, cover_factor=0.5)
    proxy = hgq.to_proxy_model(model)
    assert not np.array_equal(model.predict(x, verbose=0), proxy.predict(x, verbose=0))


@pytest.mark.parametrize("kwargs, message", [
    ({"cover_factor": 0.0}, "cover_factor must be positive"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
])
def test_trace_minmax_rejects_bad_arguments(kwargs, message):
    model = mlp()
    with pytest.raises(ValueError, match=message):
        hgq.trace_minmax(model, np.zeros((4, 16), "float32"), **kwargs)


def test_trace_minmax_rejects_data_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"data of shape \(4, 15\) does not match input .* of shape \(None, 16\)"):
        hgq.trace_minmax(mlp(), np.zeros((4, 15), "float32"))


def test_h_model_save_load_keeps_outputs_bits_and_records(trained, tmp_path):
    model, x = trained
    path = tmp_path / "h.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert hgq.total_bops(loaded) == hgq.total_bops(model)
    for a, b in zip(model.weights, loaded.weights):
        assert a.name == b.name and np.array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
    assert [layer.beta for layer in hgq.cost.iter_hlayers(loaded)] == \
        [layer.beta for layer in hgq.cost.iter_hlayers(model)]
    assert np.array_equal(hgq.to_proxy_model(loaded).predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_proxy_save_load_keeps_outputs_and_types(trained, tmp_path):
    proxy = hgq.to_proxy_model(trained[0])
    path = tmp_path / "proxy.keras"
    proxy.save(path)
    loaded = keras.models.load_model(path)
    x = trained[1] * 3  # overflowing data too
    assert np.array_equal(proxy.predict(x, verbose=0), loaded.predict(x, verbose=0))
    for a, b in zip(proxy.layers, loaded.layers):
        if isinstance(a, FixedPointQuantizer):
            assert all(np.array_equal(u, v) for u, v in zip(a.kbi(), b.kbi()))
            assert (a.RND, a.SAT, a.fusible) == (b.RND, b.SAT, b.fusible)


@pytest.mark.parametrize("layer", [
    HQuantize(beta=0.5, paq_conf={"init_bw": 5, "skip_dims": "all"}),
    HDense(7, activation="relu", beta=1e-3, kq_conf={"bw_clip": (-4, 6)}, paq_conf={"rnd_strategy": "floor"}),
    HActivation("tanh", paq_conf={"regularizer": None}),
], ids=lambda layer: type(layer).__name__)
def test_get_config_round_trip(layer):
    """Non-default quantizer configs and ``beta`` survive a layer's config round trip (each layer's own round trips
    with its test entry's arguments: ``test_layers``)."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert clone.beta == layer.beta


def test_hdense_rejects_activations_it_cannot_fuse():
    with pytest.raises(ValueError, match="layer 'd': activation='tanh' is not supported here.*HActivation"):
        HDense(3, activation="tanh", name="d")



def test_dense_on_sequences_keeps_rounding_when_the_bias_cannot_absorb_it():
    """On (batch, T, n) inputs each position has its own output step: the bias cannot carry a per-position
    half step, so the proxy keeps round-half-up in the quantizer; the proxy still equals the H-model."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(512, 3, 4)).astype("float32")
    inp = keras.Input((3, 4))
    dense = HDense(2, name="d", paq_conf={"skip_dims": (0,)})
    model = keras.Model(inp, dense(HQuantize(paq_conf={"init_bw": 4})(inp)))
    dense.paq.fbits.assign(np.array([[[2.0, 3.0], [4.0, 3.0], [2.0, 1.0]]], "float32"))
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert {q.RND for q in proxy.layers if isinstance(q, FixedPointQuantizer)} == {"RND", "TRN"}
    assert proxy.get_layer("d_q").RND == "RND"
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
