"""Each quantizer option, exercised through the layers."""

import keras
import numpy as np
import pytest
from keras import ops

from hgq.layers import HDense, HQuantize
from hgq.quantizer import Quantizer


def quantize_layer(paq_conf, n=8):
    layer = HQuantize(paq_conf=paq_conf)
    layer.build((None, n))
    return layer


def on_grid(values, f):
    scaled = np.asarray(values, dtype=np.float64) * 2.0 ** np.asarray(f)
    return np.array_equal(scaled, np.round(scaled))


def test_init_bw_sets_initial_fractional_bits_and_grid():
    layer = quantize_layer({"init_bw": 3})
    assert np.all(ops.convert_to_numpy(layer.paq.fbits) == 3)
    x = np.random.default_rng(0).normal(size=(100, 8)).astype("float32")
    y = ops.convert_to_numpy(layer(x))
    assert on_grid(y, 3) and not on_grid(y, 2)


@pytest.mark.parametrize("kind, skip_dims, shape, expected", [
    ("kernel", None, (4, 3), (4, 3)),
    ("kernel", (0,), (4, 3), (1, 3)),
    ("kernel", "all", (4, 3), (1, 1)),
    ("activation", None, (None, 5, 2), (1, 5, 2)),  # the batch axis is always shared
    ("activation", (0,), (None, 5, 2), (1, 5, 2)),
    ("activation", (1,), (None, 5, 2), (1, 1, 2)),
    ("activation", "all", (None, 5, 2), (1, 1, 1)),
])
def test_skip_dims_shapes(kind, skip_dims, shape, expected):
    q = Quantizer({"skip_dims": skip_dims}, kind=kind)
    q.build(shape)
    assert tuple(q.fbits.shape) == expected


def test_skip_dims_out_of_rank_is_an_error():
    q = Quantizer({"skip_dims": (3,)}, kind="activation", name="q")
    with pytest.raises(ValueError, match="skip_dims .* names axis 3, but the quantized tensor has rank 2"):
        q.build((None, 4))


TIES = np.array([[-0.75, -0.5, -0.25, 0.25, 0.5, 0.75]], dtype="float32")  # multiples of half a step (f=1)


@pytest.mark.parametrize("strategy, training, expected", [
    ("standard_round", True, [-0.5, -0.5, 0.0, 0.5, 0.5, 1.0]),
    ("standard_round", False, [-0.5, -0.5, 0.0, 0.5, 0.5, 1.0]),
    ("floor", True, [-1.0, -0.5, -0.5, 0.0, 0.5, 0.5]),
    ("floor", False, [-1.0, -0.5, -0.5, 0.0, 0.5, 0.5]),
    ("stochastic_round", False, [-0.5, -0.5, 0.0, 0.5, 0.5, 1.0]),  # inference rounds half up
    ("fast_uniform_noise_injection", False, [-0.5, -0.5, 0.0, 0.5, 0.5, 1.0]),
    ("auto", True, [-1.0, -0.5, -0.5, 0.0, 0.5, 0.5]),  # HQuantize has no bias: auto floors
])
def test_rounding_strategies(strategy, training, expected):
    layer = quantize_layer({"init_bw": 1, "rnd_strategy": strategy}, n=6)
    assert ops.convert_to_numpy(layer(TIES, training=training))[0].tolist() == expected


def test_stochastic_round_is_unbiased_and_on_grid_while_training():
    layer = quantize_layer({"init_bw": 0, "rnd_strategy": "stochastic_round"}, n=1)
    x = np.full((20000, 1), 0.25, dtype="float32")
    y = ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(y).tolist()) == {0.0, 1.0}
    assert abs(y.mean() - 0.25) < 0.02


def test_noise_injection_stays_within_half_a_step_and_is_off_grid_while_training():
    layer = quantize_layer({"init_bw": 2, "rnd_strategy": "fast_uniform_noise_injection"})
    x = np.random.default_rng(0).normal(size=(500, 8)).astype("float32")
    y = ops.convert_to_numpy(layer(x, training=True))
    assert np.all(np.abs(y - x) <= 0.125) and not on_grid(y, 2)


def test_auto_rounding_follows_the_bias():
    assert HDense(3).paq.rounding == "standard_round"
    assert HDense(3, use_bias=False).paq.rounding == "floor"
    assert HQuantize().paq.rounding == "floor"


def test_exact_q_value_false_uses_fractional_steps():
    exact = quantize_layer({"init_bw": 2.4})
    inexact = quantize_layer({"init_bw": 2.4, "exact_q_value": False})
    x = np.random.default_rng(0).normal(size=(100, 8)).astype("float32")
    assert on_grid(ops.convert_to_numpy(exact(x)), 2)
    assert not on_grid(ops.convert_to_numpy(inexact(x)), 2)
    assert np.allclose(ops.convert_to_numpy(inexact.paq.fractional_bits()), 2.4)


def test_dtype_sets_the_bit_width_variable_dtype():
    assert quantize_layer({"dtype": "float64"}).paq.fbits.dtype == "float64"
    assert quantize_layer({}).paq.fbits.dtype == "float32"


def test_bw_clip_bounds_the_fractional_bits():
    layer = quantize_layer({"init_bw": 10, "bw_clip": (-2, 3)})
    assert np.all(ops.convert_to_numpy(layer.paq.fractional_bits()) == 3)
    x = np.random.default_rng(0).normal(size=(100, 8)).astype("float32")
    assert on_grid(ops.convert_to_numpy(layer(x)), 3) and not on_grid(ops.convert_to_numpy(layer(x)), 2)


def test_trainable_false_freezes_the_bit_widths():
    frozen = HDense(3, kq_conf={"trainable": False}, paq_conf={"trainable": False})
    frozen.build((None, 4))
    names = [w.name for w in frozen.trainable_weights]
    assert names == ["kernel", "bias"]
    free = HDense(3)
    free.build((None, 4))
    assert sorted(w.name for w in free.trainable_weights) == ["bias", "fractional_bits", "fractional_bits", "kernel"]


def test_regularizer_adds_l1_of_the_bit_widths():
    layer = quantize_layer({"init_bw": 3, "regularizer": 0.5})
    layer(np.zeros((2, 8), "float32"), training=True)
    assert float(ops.convert_to_numpy(sum(layer.losses))) == pytest.approx(0.5 * 3 * 8)
    none = quantize_layer({"regularizer": None})
    none(np.zeros((2, 8), "float32"), training=True)
    assert none.losses == []


def test_minmax_records_only_while_training_or_calibrating():
    layer = quantize_layer({"init_bw": 4})
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    layer(x, training=False)
    assert not layer.paq.is_calibrated()
    y = ops.convert_to_numpy(layer(x, training=True))
    assert np.array_equal(ops.convert_to_numpy(layer.paq.vmax)[0], y.max(axis=0))
    assert np.array_equal(ops.convert_to_numpy(layer.paq.vmin)[0], y.min(axis=0))
    layer.paq.reset_minmax()
    assert not layer.paq.is_calibrated()


def test_without_minmax_record_bits_come_from_values():
    q = Quantizer({"init_bw": 2}, kind="kernel")
    q.build((3,))
    assert not hasattr(q, "vmin")
    values = ops.convert_to_tensor([0.75, -0.5, 0.0])
    assert ops.convert_to_numpy(q.bits(values)).tolist() == [2.0, 2.0, 0.0]  # ufixed<2,0>, fixed<2,0>, pruned
    with pytest.raises(ValueError, match="records no min/max"):
        q.kif()


def test_output_quantizer_without_records_cannot_count_bops():
    inp = keras.Input((4,))
    model = keras.Model(inp, HDense(2, beta=1e-3)(HQuantize(paq_conf={"minmax_record": False}, name="q")(inp)))
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="'q_paq' has minmax_record=False.*need minmax_record=True in paq_conf"):
        model.fit(np.zeros((8, 4), "float32"), np.zeros((8, 2), "float32"), verbose=0)
