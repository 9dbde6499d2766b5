"""HGRU, HLSTM and HBidirectional: a trained stack (a bidirectional GRU returning sequences into an LSTM) bit-exact
through hls4ml with inputs that overflow and gate inputs that saturate the tables; a GRU through io_stream; the tables
against hls4ml's own C++ compiled with g++; the layers against Keras' GRU, LSTM and Bidirectional with fine widths;
``quantize_model``'s mapping; BOPs and costs; refusals by name. Their layer checks are in ``test_layers.py``."""

import subprocess
from pathlib import Path

import keras
import numpy as np
import pytest

import hgq
from hgq.cost import layer_costs
from hgq.families.recurrent.arithmetic import RecurrentArithmetic
from hgq.layers import HGRU, HLSTM, HBidirectional, HDense, HQuantize
from hgq.proxy import GRU, LSTM, Bidirectional, convert_to_hls4ml
from hgq.quantizer.fixed_type import FixedType
from hgq.quantizer.types import as_numpy

from bitexact import check_bit_exact

STEPS, FEATURES = 4, 5


def sequences(n, seed=0):
    """Inputs and a target that depends on the order of the steps."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, STEPS, FEATURES)).astype("float32")
    weights = np.linspace(-1, 1, STEPS)[None, :, None]
    y = np.stack([np.tanh((x * weights).sum(1)[:, 0]), np.tanh(x[:, -1, 1] - x[:, 0, 2]),
                  np.sin(x[:, :, 3].sum(1) / 2)], axis=1)
    return x, y.astype("float32")


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    inp = keras.Input((STEPS, FEATURES))
    x = HQuantize(paq_conf={"init_bw": 4}, name="q")(inp)
    x = HBidirectional(HGRU(4, return_sequences=True, kernel_initializer=keras.initializers.RandomNormal(stddev=1.5),
                            table_size=512, table_bits=11, beta=1e-6), name="gru")(x)
    x = HLSTM(4, table_size=512, table_bits=11, beta=1e-6, name="lstm")(x)
    model = keras.Model(inp, HDense(3, name="head")(x))
    x, y = sequences(1000)
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_recurrent")  # one worker trains the shared model
def test_trained_stack_is_bit_exact_with_hls4ml(trained, hls4ml_projects):
    model, x = trained
    proxy = hgq.to_proxy_model(model)
    assert isinstance(proxy.get_layer("gru"), Bidirectional) and isinstance(proxy.get_layer("lstm"), LSTM)
    # at the largest scale the gates' inputs pass the tables' ranges (sigmoid [-8, 8), tanh [-4, 4)): they read
    # their ends
    gru_input = keras.Model(proxy.inputs, proxy.get_layer("gru").input).predict(3.0 * x, verbose=0)
    kernel, _, bias, _ = proxy.get_layer("gru").direction_weights()[0]
    pre_activation = np.abs(gru_input @ kernel + bias)
    assert np.max(pre_activation[..., :8]) >= 8 and np.max(pre_activation[..., 8:]) >= 4
    check_bit_exact(proxy, x, hls4ml_projects(proxy), model=model, scales=(2.5, 3.0))


@pytest.mark.hls4ml
def test_gru_is_bit_exact_through_io_stream(hls4ml_projects):
    """io_stream takes one type per quantizer: a GRU returning its last state between two such quantizers."""
    keras.utils.set_random_seed(1)
    inp = keras.Input((STEPS, FEATURES))
    h = HGRU(4, table_size=256, table_bits=10, name="gru")(
        HQuantize(paq_conf={"init_bw": 5, "skip_dims": "all"}, name="q")(inp))
    model = keras.Model(inp, HDense(2, paq_conf={"skip_dims": "all"}, name="head")(h))
    x, _ = sequences(1000, seed=1)
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert isinstance(proxy.get_layer("gru"), GRU)
    check_bit_exact(proxy, x, hls4ml_projects(proxy, io_type="io_stream"), model=model, scales=(2.5, 3.0))


@pytest.mark.xdist_group("test_recurrent")  # one worker trains the shared model
def test_lstm_and_bidirectional_io_stream_are_refused_by_name(trained, tmp_path):
    model, _ = trained
    with pytest.raises(ValueError, match=r"hls4ml has no streamed bidirectional layer \(its bidirectional_stack takes "
                                         r"arrays only\) \(Bidirectional\); use io_type='io_parallel'"):
        convert_to_hls4ml(hgq.to_proxy_model(model), tmp_path / "prj", io_type="io_stream")
    inp = keras.Input((STEPS, FEATURES))
    lstm = keras.Model(inp, HLSTM(2, name="lstm")(HQuantize(paq_conf={"skip_dims": "all"}, name="q")(inp)))
    hgq.trace_minmax(lstm, sequences(64)[0])
    with pytest.raises(ValueError, match=r"hls4ml's LSTM compiles only when its input is of its one type.*io_stream "
                                         r"fuses every quantizer \(LSTM\); use io_type='io_parallel'"):
        convert_to_hls4ml(hgq.to_proxy_model(lstm), tmp_path / "prj", io_type="io_stream")
    assert not (tmp_path / "prj").exists()


TABLES_CPP = """#include "ap_fixed.h"
#include "nnet_utils/nnet_activation.h"
#include <cstdio>
typedef {table_t} table_type;
struct config : nnet::activ_config {{ static const unsigned table_size = {n}; typedef table_type table_t; }};
int main() {{
    table_type sigmoid[{n}], tanh[{n}];
    nnet::init_sigmoid_table<config, {n}>(sigmoid);
    nnet::init_tanh_table<config, {n}>(tanh);
    for (int i = 0; i < {n}; i++) printf("%.17g %.17g\\n", sigmoid[i].to_double(), tanh[i].to_double());
}}
"""


@pytest.mark.hls4ml
@pytest.mark.once
@pytest.mark.parametrize("size, bits", [(512, 11), (4096, 16)])
def test_tables_equal_hls4mls_compiled_tables(size, bits, tmp_path):
    """The tables as hls4ml's C++ fills them (``init_sigmoid_table``, ``init_tanh_table``), compiled with g++."""
    import hls4ml

    templates = Path(hls4ml.__file__).parent / "templates" / "vivado"
    (tmp_path / "tables.cpp").write_text(TABLES_CPP.format(table_t=f"ap_fixed<{bits},1>", n=size))
    subprocess.run(["g++", "-std=c++14", "-O1", f"-I{templates}", f"-I{templates / 'ap_types'}", "tables.cpp",
                    "-o", "tables"], cwd=tmp_path, check=True)
    printed = np.loadtxt(subprocess.run(["./tables"], cwd=tmp_path, check=True, capture_output=True,
                                        text=True).stdout.splitlines())
    arithmetic = RecurrentArithmetic("gru", 1, 1, size, FixedType(1, 0, bits - 1, "TRN", "WRAP"))
    assert np.array_equal(arithmetic.tables().T, printed)


@pytest.mark.parametrize("cell, bidirectional", [(keras.layers.LSTM, False), (keras.layers.GRU, True)])
def test_fine_widths_compute_keras_layer(cell, bidirectional):
    """``quantize_model`` of a float GRU, LSTM or bidirectional GRU with wide widths and fine tables computes what Keras
    does, up to the tables' steps: the gates' order, the biases, the states and the backward direction are Keras'."""
    keras.utils.set_random_seed(2)
    inp = keras.Input((STEPS, FEATURES))
    rnn_float = cell(5, return_sequences=True, bias_initializer="random_normal", name="rnn")
    if bidirectional:
        rnn_float = keras.layers.Bidirectional(rnn_float, name="rnn")
    float_model = keras.Model(inp, rnn_float(inp))
    model = hgq.quantize_model(float_model, kq_conf={"init_bw": 12}, paq_conf={"init_bw": 12})
    rnn = model.get_layer("rnn")
    assert type(rnn) is (HBidirectional if bidirectional else HGRU if cell is keras.layers.GRU else HLSTM)
    pairs = [("", rnn_float)] if not bidirectional else [("", rnn_float.forward_layer),
                                                          ("backward_", rnn_float.backward_layer)]
    for prefix, source in pairs:
        for name in ("kernel", "recurrent_kernel", "bias"):
            assert np.array_equal(as_numpy(getattr(rnn, prefix + name)), as_numpy(getattr(source.cell, name)))
    x, _ = sequences(200, seed=2)
    hgq.trace_minmax(model, x)
    difference = np.abs(model.predict(x, verbose=0) - float_model.predict(x, verbose=0))
    assert np.max(difference) < 0.03, np.max(difference)  # the tables: 1024 entries, steps of 1/64 and 1/128


@pytest.mark.xdist_group("test_recurrent")  # one worker trains the shared model
def test_bops_and_costs(trained):
    model, _ = trained
    for name in ("gru", "lstm"):
        layer = model.get_layer(name)
        producer = layer.quantized_input_layers()[0]
        in_kif = tuple(np.broadcast_to(as_numpy(a), layer.input_feature_shapes()[0]) for a in producer.output_kif())
        costs = layer_costs(layer, [in_kif])
        assert costs.bops == pytest.approx(layer.bops(), rel=1e-6) and costs.bops > 0
        assert costs.params == sum(int(np.prod(w.shape)) for d in layer.directions()
                                   for w in (d.kernel, d.recurrent_kernel, d.bias))
    lstm = model.get_layer("lstm")
    fw = lstm.firmware(False)
    one = lstm.state_t(fw)
    assert lstm.accum_t(fw).width == one.width and one.i >= 3  # one type, holding |c| <= 4 steps
    # by hand: the input dense at the one type's width, the recurrent dense at the state's, the gates' products
    kernel_bits = as_numpy(lstm.kq.bits(lstm.quantized_kernels(False)[0]))
    recurrent_bits = as_numpy(lstm.rkq.bits(lstm.quantized_kernels(False)[1]))
    t = lstm.arithmetic.table_t.width
    expected = one.width * (kernel_bits.sum() + recurrent_bits.sum()) + lstm.units * (2 * t * t + t * one.width)
    assert lstm.bops() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("layer, message", [
    (keras.layers.GRU(3, reset_after=False, name="rnn"), "has reset_after=False; hls4ml splits its bias wrongly"),
    (keras.layers.GRU(3, go_backwards=True, name="rnn"), "has go_backwards=True; hls4ml ignores it"),
    (keras.layers.LSTM(3, return_state=True, name="rnn"), "has return_state=True; hls4ml's converter refuses it"),
    (keras.layers.LSTM(3, activation="relu", name="rnn"), "has activation='relu'; hgq computes hls4ml's tanh table"),
    (keras.layers.GRU(3, recurrent_activation="hard_sigmoid", name="rnn"),
     "has recurrent_activation='hard_sigmoid'; hgq computes hls4ml's sigmoid table only"),
    (keras.layers.SimpleRNN(3, name="rnn"), "has no firmware; hls4ml 1.3 never computes a SimpleRNN on Vivado or "
                                            r"Vitis \(hls4ml issue #1464"),
    (keras.layers.Bidirectional(keras.layers.LSTM(3), merge_mode="sum", name="rnn"),
     "has merge_mode='sum'; hls4ml puts the directions side by side only"),
    (keras.layers.Bidirectional(keras.layers.SimpleRNN(3), name="rnn"),
     "has a SimpleRNN inside; hgq computes GRU and LSTM layers only"),
    (keras.layers.Bidirectional(keras.layers.GRU(3), backward_layer=keras.layers.GRU(4, go_backwards=True), name="rnn"),
     "has directions of different kinds or sizes")])
@pytest.mark.once
def test_quantize_model_refuses_what_hls4ml_computes_otherwise(layer, message):
    inp = keras.Input((STEPS, FEATURES))
    out = layer(inp)
    model = keras.Model(inp, out[0] if isinstance(out, list) else out)
    with pytest.raises(ValueError, match=rf"quantize_model: {type(layer).__name__} 'rnn' {message}"):
        hgq.quantize_model(model)


def test_layer_refusals_name_the_layer_and_the_option():
    with pytest.raises(ValueError, match=r"HBidirectional 'rnn': merge_mode='ave'; hls4ml puts the directions side by "
                                         r"side only"):
        HBidirectional(HGRU(3), merge_mode="ave", name="rnn")
    with pytest.raises(ValueError, match=r"HBidirectional 'rnn': layer is a HDense; HBidirectional wraps an HGRU or an "
                                         r"HLSTM"):
        HBidirectional(HDense(3), name="rnn")
    with pytest.raises(ValueError, match=r"HGRU 'rnn': activation='relu'; hgq computes hls4ml's tanh table only"):
        HGRU(3, activation="relu", name="rnn")
    with pytest.raises(ValueError, match=r"HLSTM 'rnn': paq_conf\['skip_dims'\] = None; the state of a recurrent "
                                         r"layer is one type"):
        HLSTM(3, paq_conf={"skip_dims": None}, name="rnn")
    with pytest.raises(ValueError, match=r"HGRU 'rnn': paq_conf\['bw_clip'\] = \(0, 23\); the states \(\|h\| <= 1\) "
                                         r"stay exact in float32 with at most 22 fractional bits"):
        HGRU(3, paq_conf={"bw_clip": (0, 23)}, name="rnn")(keras.Input((STEPS, FEATURES)))
    with pytest.raises(ValueError, match=r"HGRU 'rnn': input shape \(None, None, 5\); hls4ml's recurrent layers take "
                                         r"sequences of a fixed length"):
        HGRU(3, name="rnn")(keras.Input((None, FEATURES)))


def test_export_refuses_arithmetic_wider_than_float64():
    keras.utils.set_random_seed(0)
    inp = keras.Input((STEPS, FEATURES))
    rnn = HGRU(3, kq_conf={"init_bw": 22}, name="rnn")
    model = keras.Model(inp, rnn(HQuantize(paq_conf={"init_bw": 22}, name="q")(inp)))
    hgq.trace_minmax(model, sequences(64)[0])
    with pytest.raises(ValueError, match=r"to_proxy_model: HGRU 'rnn' computes values of up to \d+ bits .*more than "
                                         r"float64 holds exactly \(53\)"):
        hgq.to_proxy_model(model)
