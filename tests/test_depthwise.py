"""Depthwise and separable convolutions (``HDepthwiseConv1D/2D``, ``HSeparableConv1D/2D``): BOPs counted weight by
weight, the type rule of the exported depthwise layer holding what it computes, io_stream bit-exact through hls4ml,
and what hls4ml cannot build refused by name. Every layer's own checks (io_parallel, Latency and distributed
arithmetic) are in ``test_layers.py``; the float layers' mapping in ``test_quantize_model.py``."""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.cost.types import output_kif
from hgq.layers import HDepthwiseConv1D, HDepthwiseConv2D, HQuantize, HSeparableConv2D, PReshape
from hgq.proxy import convert_to_hls4ml
from hgq.quantizer.types import as_numpy

from bitexact import check_bit_exact, compile_hls4ml


@functools.lru_cache(maxsize=None)
def depthwise_model(depth_multiplier=1, skip_dims=None, seed=0):
    """HQuantize -> HDepthwiseConv2D (strides 2, 'same') -> HSeparableConv2D, random widths, calibrated."""
    keras.utils.set_random_seed(seed)
    paq = {} if skip_dims is None else {"skip_dims": skip_dims}
    inp = keras.Input((7, 7, 3))
    x = HQuantize(paq_conf={**paq, "init_bw": 4}, name="inp_q")(inp)
    x = HDepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=depth_multiplier, activation="relu",
                         paq_conf=paq, name="dw")(x)
    model = keras.Model(inp, HSeparableConv2D(4, 2, paq_conf=paq, name="sep")(x))
    rng = np.random.default_rng(seed)
    for layer in model.layers[1:]:
        for q in layer.quantizers():
            q.fbits.assign(rng.integers(0, 4, size=q.fbits.shape).astype("float32"))
    data = rng.normal(size=(1000, 7, 7, 3)).astype("float32") * 4
    hgq.trace_minmax(model, data)
    return model, data


def brute_force_bops(in_bits, w_bits, strides, padding_before):
    """Sum over output positions, channels, multipliers and taps of input width times weight width, loop by loop."""
    height, width, _ = in_bits.shape
    kh, kw, channels, multiplier = w_bits.shape
    out_h, out_w = -(-height // strides), -(-width // strides)
    total = 0.0
    for p in range(out_h):
        for q in range(out_w):
            for a in range(kh):
                for b in range(kw):
                    y, x = p * strides + a - padding_before, q * strides + b - padding_before
                    if 0 <= y < height and 0 <= x < width:
                        total += sum(in_bits[y, x, c] * w_bits[a, b, c, m]
                                     for c in range(channels) for m in range(multiplier))
    return total


@pytest.mark.parametrize("depth_multiplier", [1, 2])
def test_bops_are_each_weight_times_the_inputs_it_multiplies(depth_multiplier):
    model, _ = depthwise_model(depth_multiplier)
    dw = model.get_layer("dw")
    in_bits = as_numpy(dw.input_bits())[0]
    w_bits = as_numpy(dw.weight_bits())
    assert dw.bops() == brute_force_bops(in_bits, w_bits, strides=2, padding_before=1) > 0
    sep = model.get_layer("sep")
    assert sep.bops() == sum(part.bops() for part in sep.parts()) > 0
    assert hgq.total_bops(model) == pytest.approx(dw.bops() + sep.bops())


@pytest.mark.parametrize("depth_multiplier", [1, 2])
def test_the_type_rule_holds_every_output_of_the_exported_depthwise_layer(depth_multiplier):
    model, x = depthwise_model(depth_multiplier)
    proxy = hgq.to_proxy_model(model)
    plain = proxy.get_layer("dw")
    assert isinstance(plain, keras.layers.DepthwiseConv2D) and plain.depth_multiplier == depth_multiplier
    in_kif = tuple(np.broadcast_to(as_numpy(a), (1, 7, 7, 3)) for a in model.get_layer("inp_q").output_kif())
    k, i, f = output_kif(plain, [in_kif], plain.output.shape[1:])
    raw = keras.Model(proxy.input, plain.output).predict(x.astype(np.float64) * 3, verbose=0)  # overflowing too
    assert np.all(raw >= -k * 2.0**i) and np.all(raw <= 2.0**i - 2.0**-f)
    assert np.all(raw * 2.0**f == np.round(raw * 2.0**f))


@pytest.mark.hls4ml
def test_io_stream_is_bit_exact(tmp_path):
    model, x = depthwise_model(1, "all")
    proxy = hgq.to_proxy_model(model)
    check_bit_exact(proxy, x, compile_hls4ml(proxy, tmp_path / "prj", "io_stream"), model=model, scales=(3.0,))


def test_what_hls4ml_cannot_build_is_refused_by_name(tmp_path):
    model, _ = depthwise_model(2)
    with pytest.raises(ValueError, match=r"hls4ml cannot build layer 'dw' \(DepthwiseConv2D\): depth_multiplier=2 "
                                         r"\(hls4ml computes depth_multiplier=1 only\)"):
        convert_to_hls4ml(hgq.to_proxy_model(model), tmp_path / "a")
    model, _ = depthwise_model(1)
    with pytest.raises(ValueError, match=r"hls4ml has no Resource implementation of layer 'dw' \(DepthwiseConv2D\)"):
        convert_to_hls4ml(hgq.to_proxy_model(model), tmp_path / "b", strategy="resource")
    inp = keras.Input((8, 2))
    one = HDepthwiseConv1D(3, name="one")(HQuantize(name="q1")(inp))
    two = HDepthwiseConv2D(2, name="two")(PReshape((4, 4, 1))(HQuantize(name="q2")(inp)))
    both = keras.Model(inp, [one, two])
    hgq.trace_minmax(both, np.random.default_rng(0).normal(size=(64, 8, 2)).astype("float32"))
    with pytest.raises(ValueError, match=r"layers 'one' and 'two' in one model: their C\+\+ headers "
                                         r"nnet_sepconv1d_latency.h and nnet_sepconv2d_latency.h share the include "
                                         r"guard"):
        convert_to_hls4ml(hgq.to_proxy_model(both), tmp_path / "c")


def test_quantize_model_refusals():
    seq = keras.Input((4, 6, 6, 2))
    frames = keras.Model(seq, keras.layers.TimeDistributed(keras.layers.Conv2D(2, 3), name="frames")(seq))
    with pytest.raises(ValueError, match=r"TimeDistributed 'frames' wraps a Conv2D; hgq maps TimeDistributed of "
                                         r"Dense and of Conv1D \(hls4ml has no 3-D convolution\)"):
        hgq.quantize_model(frames)
    image = keras.Input((6, 6, 2))
    dilated = keras.Model(image, keras.layers.SeparableConv2D(2, 3, dilation_rate=2, name="dil")(image))
    with pytest.raises(ValueError, match=r"SeparableConv2D 'dil' has dilation_rate=\(2, 2\)"):
        hgq.quantize_model(dilated)
    with pytest.raises(ValueError, match=r"HDepthwiseConv2D 'dw'.*dilation_rate"):
        HDepthwiseConv2D(3, dilation_rate=2, name="dw")


def test_quantize_model_maps_the_1d_layers():
    """The 1-D float layers (the 2-D ones train and export in ``test_quantize_model``; hls4ml cannot build both kinds
    in one project): mapped, weights copied, the float model's function with wide widths."""
    keras.utils.set_random_seed(0)
    x = keras.Input((8, 2))
    y = keras.layers.DepthwiseConv1D(3, padding="same", activation="relu", name="dw")(x)
    y = keras.layers.SeparableConv1D(4, 3, activation="relu", name="sep")(y)
    model = keras.Model(x, keras.layers.TimeDistributed(keras.layers.Dense(2), name="cells")(y))
    h = hgq.quantize_model(model, kq_conf={"init_bw": 14}, paq_conf={"init_bw": 14})
    assert [type(h.get_layer(n)).__name__ for n in ("dw", "sep", "cells")] == ["HDepthwiseConv1D", "HSeparableConv1D",
                                                                               "HDense"]
    assert np.array_equal(h.get_layer("sep").part("depthwise").kernel, model.get_layer("sep").depthwise_kernel)
    data = np.random.default_rng(0).normal(size=(64, 8, 2)).astype("float32")
    np.testing.assert_allclose(h.predict(data, verbose=0), model.predict(data, verbose=0), atol=0.01)
