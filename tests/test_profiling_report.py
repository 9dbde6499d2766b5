"""hgq.profiling.profile: the per-layer cost report, its numbers and its formats."""

import base64
import csv
import io
import json
import math
import re

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HActivation, HConv2D, HDense, HQuantize, PFlatten, PMaxPooling2D
from hgq.profiling import CostReport, profile, render
from conftest import trained_mlp


def hand_model():
    """HQuantize (f=2) -> HDense(2) with kernel [[0.5, -0.75], [0, 3]] (f=2) and bias [0.3, -1].

    Calibrated on x = [[0, -2], [1.5, 0.75]]: inputs ufixed<3,1> (x0 in [0, 1.5]) and fixed<4,2> (x1 in [-2, 0.75]).
    """
    inp = keras.Input((2,))
    dense = HDense(2, kq_conf={"init_bw": 2}, name="d")
    model = keras.Model(inp, dense(HQuantize(paq_conf={"init_bw": 2}, name="q")(inp)), name="hand")
    dense.kernel.assign(np.array([[0.5, -0.75], [0.0, 3.0]], "float32"))
    dense.bias.assign(np.array([0.3, -1.0], "float32"))
    return model, np.array([[0.0, -2.0], [1.5, 0.75]], "float32")


@pytest.fixture(scope="module")
def hand():
    model, x = hand_model()
    return model, x, profile(model, x)


def test_hand_counted_dense_record(hand):
    _, _, report = hand
    inp, q, d = report.records
    assert [r.name for r in report.records[1:]] == ["q", "d"]
    assert (inp.type, inp.params, inp.bops, inp.act_bits_mean) == ("InputLayer", 0, 0.0, None)
    # HQuantize: widths 3 (ufixed<3,1>) and 4 (fixed<4,2>)
    assert (q.type, q.params, q.bops, q.act_bits_mean, q.act_bits_max) == ("HQuantize", 0, 0.0, 3.5, 4.0)
    assert (q.input_shapes, q.output_shapes) == ([[2]], [[2]])
    assert d.type == "HDense"
    assert d.params == 6          # kernel 4 + bias 2
    assert d.macs == 4            # 2 inputs x 2 outputs
    # kernel widths (f=2): 0.5 -> 2, -0.75 -> 3, 0 -> 0, 3 -> 4; BOPs 3*2 + 3*3 + 4*0 + 4*4
    assert d.bops == 31.0
    assert (d.weight_bits_mean, d.weight_bits_max, d.pruned_fraction) == (2.25, 4.0, 0.25)
    # bias rounded to f_out + 1 = 3 bits: 0.3 -> 0.25 (width 0+(-1)+3 = 2), -1 (width 1+0+3 = 4)
    assert d.weight_memory_bits == 9 + 6
    # outputs rounded to f=2: [0.25, 1] -> ufixed (k0, i1, f2) = 3 bits; [-7, 0.25] -> (k1, i3, f2) = 6 bits
    assert (d.act_bits_mean, d.act_bits_max) == (4.5, 6.0)
    # accumulator: x0 in [0, 1.75], x1 in [-2, 1.75] (type ranges); out1 = -0.75 x0 + 3 x1 - 1 in [-8.3125, 4.25]
    # -> sign + 4 integer bits; fractional bits f_in + f_w = 2 + 2 = 4 (> bias f = 3): 1 + 4 + 4 = 9
    assert d.accumulator_bits == 9
    # every operand < 9 bits: no DSP, LUT est. = BOPs; latency: multiplier + ceil(log2 2) adders + output
    assert (d.lut_est, d.dsp_est, d.latency_est_cycles) == (31.0, 0.0, 3)


def test_dsp_threshold_moves_products_to_dsps():
    model, x = hand_model()
    d = profile(model, x, dsp_min_bits=3).records[2]
    # products with both widths >= 3: x0 (3) * -0.75 (3) and x1 (4) * 3 (4): 2 DSPs; LUT est. 31 - 9 - 16
    assert (d.dsp_est, d.lut_est, d.bops) == (2.0, 6.0, 31.0)


def test_hand_counted_summary(hand):
    _, _, report = hand
    s = report.summary
    assert (s.model, s.kind, s.layers, s.rules_version) == ("hand", "H-model", 3, 1)
    assert (s.params, s.macs, s.bops, s.model_memory_bits, s.float32_memory_bits) == (6, 4, 31.0, 15, 6 * 32)
    assert (s.lut_est, s.dsp_est, s.latency_est_cycles) == (31.0, 0.0, 3)
    assert s.input_types == ["fixed<4,2> (per element: mean 3.50, max 4 bits, 2 elements)"]
    assert s.output_types == ["fixed<6,4> (per element: mean 4.50, max 6 bits, 2 elements)"]
    assert s.unquantized_layers == []
    assert "estimates" in s.note


def test_proxy_model_weight_widths_are_minimal(hand):
    model, _, _ = hand
    report = profile(hgq.to_proxy_model(model))
    assert [(r.name, r.type) for r in report.records[1:]] == [
        ("q", "FixedPointQuantizer"), ("d", "Dense"), ("d_q", "FixedPointQuantizer")]
    d = report.records[2]
    # minimal widths: 0.5 -> 1 (f=1), -0.75 -> 3, 0 -> 0, 3 -> 2 (f=0): 3*1 + 3*3 + 4*0 + 4*2 = 20 < 31
    assert d.bops == 20.0
    assert (d.weight_bits_mean, d.weight_bits_max, d.pruned_fraction) == (1.5, 3.0, 0.25)
    # the proxy's bias carries the output's half step: 0.375 (2 bits) and -0.875 (4 bits)
    assert d.weight_memory_bits == 6 + 6
    # out1 in [-8.1875, 4.375]: 1 + 4 integer bits; fractional: x0 (f=2) * -0.75 (f=2) = 4
    assert d.accumulator_bits == 9
    # the plain Dense's outputs are its sums, typed as hls4ml types them: out0 = 0.5 x0 + 0.375 in [0.375, 1.25]
    # on the grid 2^-3 (ufixed, 1 + 3 bits), out1 the accumulator above (9 bits)
    assert (d.act_bits_mean, d.act_bits_max) == (6.5, 9.0)
    assert (report.records[3].act_bits_mean, report.records[3].act_bits_max) == (4.5, 6.0)
    assert report.summary.kind == "proxy"
    assert report.summary.output_types == profile(model).summary.output_types


@pytest.fixture(scope="module")
def mlp_model():
    return trained_mlp(epochs=1)


def test_bops_sum_equals_trace_minmax_on_the_trained_mlp(mlp_model):
    model, x = mlp_model
    report = profile(model, x)
    assert sum(r.bops for r in report.records) == hgq.trace_minmax(model, x)
    assert report.summary.bops == hgq.total_bops(model)
    assert {r.name: r.bops for r in report.records if r.name in hgq.layer_bops(model)} == hgq.layer_bops(model)


def test_proxy_bops_never_exceed_the_h_model(mlp_model):
    model, x = mlp_model
    h = {r.name: r for r in profile(model, x).records}
    proxy = {r.name: r for r in profile(hgq.to_proxy_model(model)).records}
    for name in ("dense1", "dense2", "out"):
        assert proxy[name].bops <= h[name].bops
        assert proxy[name].weight_bits_mean <= h[name].weight_bits_mean
        assert proxy[name].pruned_fraction == h[name].pruned_fraction
        assert proxy[name].latency_est_cycles == h[name].latency_est_cycles
    assert sum(p.bops for p in proxy.values()) < sum(r.bops for r in h.values())


def conv_model():
    keras.utils.set_random_seed(1)
    inp = keras.Input((8, 8, 1))
    h = HQuantize(paq_conf={"init_bw": 6}, name="q")(inp)
    h = HConv2D(4, 3, strides=2, padding="same", activation="relu", kq_conf={"init_bw": 6}, parallel_factor=2,
                name="conv")(h)
    h = PMaxPooling2D(2, name="pool")(h)
    out = HDense(3, name="dense")(PFlatten(name="flat")(h))
    return keras.Model(inp, out), np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")


def test_conv_model_bops_macs_and_latency():
    model, x = conv_model()
    report = profile(model, x)
    assert sum(r.bops for r in report.records) == hgq.trace_minmax(model, x)
    records = {r.name: r for r in report.records}
    conv = records["conv"]
    assert conv.macs == 4 * 4 * (3 * 3 * 1 * 4)      # output positions x kernel size
    assert conv.params == 3 * 3 * 1 * 4 + 4
    assert conv.output_shapes == [[4, 4, 4]]
    # 16 positions on 2 parallel kernels: 8 groups, one cycle each after the first; resources: a 2/16 share
    layer = model.get_layer("conv")
    w_bits = np.asarray(layer.kq.bits(layer.quantized_kernel(False))).reshape(-1, 4)
    fan_in = int(np.max(np.sum(w_bits > 0, axis=0)))
    assert conv.latency_est_cycles == 1 + math.ceil(math.log2(fan_in)) + 1 + (8 - 1)
    assert (conv.dsp_est, conv.lut_est) == (0.0, conv.bops * 2 / 16)  # operands of 6 to 8 bits: no DSP
    assert records["pool"].latency_est_cycles == 2 and records["flat"].latency_est_cycles == 0
    assert records["dense"].macs == 16 * 3
    proxy = {r.name: r for r in profile(hgq.to_proxy_model(model)).records}
    # the proxy's Dense reads its input types through the plain MaxPooling2D and Flatten layers
    assert proxy["flat"].act_bits_mean == records["flat"].act_bits_mean
    assert 0 < proxy["dense"].bops <= records["dense"].bops
    assert proxy["conv"].latency_est_cycles == conv.latency_est_cycles


def test_nested_model_is_flattened():
    keras.utils.set_random_seed(2)
    inp = keras.Input((6,))
    h = HDense(5, activation="relu", name="d1")(HQuantize(name="q")(inp))
    block = keras.Sequential([keras.Input((5,)), HActivation("relu", name="act"), HDense(4, name="d2")],
                             name="block")
    model = keras.Model(inp, HDense(2, name="d3")(block(h)))
    x = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    report = profile(model, x)
    assert [r.name for r in report.records[1:]] == ["q", "d1", "block/act", "block/d2", "d3"]
    assert sum(r.bops for r in report.records) == hgq.trace_minmax(model, x)
    assert all(r.bops > 0 for r in report.records if r.type == "HDense")
    assert report.summary.latency_est_cycles == sum(r.latency_est_cycles for r in report.records)


def test_plain_keras_model_has_unknown_widths():
    inp = keras.Input((3,))
    model = keras.Model(inp, keras.layers.Dense(2, name="fc")(inp))
    report = profile(model)
    fc = report.records[1]
    assert (fc.params, fc.macs, fc.bops, fc.weight_bits_mean, fc.lut_est) == (8, 6, None, None, None)
    assert report.summary.unquantized_layers == ["fc"]
    assert (report.summary.kind, report.summary.bops) == ("float", 0.0)
    assert "-" in render.to_text(report)


def test_data_of_the_wrong_shape_is_refused():
    model, _ = hand_model()
    with pytest.raises(ValueError, match=r"expected shape \(None, 2\), got \(4, 3\)"):
        profile(model, np.zeros((4, 3), "float32"))


# --- formats -------------------------------------------------------------------------------------------------


def test_json_validates_and_reloads_into_an_equal_report(mlp_model):
    report = profile(*mlp_model)
    data = json.loads(render.to_json(report))
    assert set(data) == {"summary", "records"}
    assert {"bops", "rules_version", "lut_est", "dsp_est", "latency_est_cycles", "note"} <= set(data["summary"])
    assert {"index", "name", "type", "bops", "accumulator_bits", "lut_est"} <= set(data["records"][0])
    assert CostReport.from_dict(data) == report


def test_csv_parses_one_row_per_layer_with_the_report_numbers(mlp_model):
    report = profile(*mlp_model)
    rows = list(csv.DictReader(io.StringIO(render.to_csv(report))))
    assert len(rows) == len(report.records)
    for row, r in zip(rows, report.records):
        assert (int(row["index"]), row["name"], row["type"]) == (r.index, r.name, r.type)
        assert (int(row["params"]), int(row["macs"]), float(row["bops"])) == (r.params, r.macs, r.bops)
        assert row["act_bits_mean"] == ("" if r.act_bits_mean is None else repr(r.act_bits_mean))
        assert row["lut_est"] == ("" if r.lut_est is None else repr(r.lut_est))


def test_text_drops_all_zero_columns_and_uses_si_suffixes(mlp_model, hand):
    text = render.to_text(hand[2])
    header = text.splitlines()[0]
    assert "BOPs" in header and "LUT est." in header
    assert "DSP est." not in header  # every DSP estimate is 0
    report = profile(*mlp_model)
    big = next(r for r in report.records if r.bops >= 1000)
    assert f"{big.bops / 1000:.3g}k" in render.to_text(report)
    raw = render.to_text(report, raw=True)
    assert f" {big.bops:.0f} " in raw and not re.search(r"\d[kMG]\b", raw.split("\n\n")[0])


def test_html_is_self_contained_with_the_table_and_png_images(mlp_model):
    model, x = mlp_model
    report = profile(model, x)
    page = render.to_html(report, render.report_figures(model, x))
    for r in report.records:
        assert f"<td class=\"txt\">{r.name}</td>" in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 1
    assert all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in images)
    assert "LUT est." in page and "<link" not in page and "<script" not in page
