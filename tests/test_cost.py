"""hgq.cost: per-weight BOPs, the kernel-layer adapter of proxy layers, layer costs against the report, and the
one input-data checker (hgq.data)."""

import keras
import numpy as np
import pytest

import hgq
from hgq import cost
from hgq.data import input_arrays, same_size_batches
from hgq.layers import HConv1D, HConv2D, HConv2DBatchNorm, HDense, HDenseBatchNorm, HQuantize, PConcatenate, PFlatten
from hgq.profiling import profile


def hand_dense():
    """HQuantize (f=2) -> HDense(2), kernel [[0.5, -0.75], [0, 3]] (f=2), calibrated so that the inputs are
    ufixed<3,1> (3 bits) and fixed<4,2> (4 bits)."""
    inp = keras.Input((2,))
    dense = HDense(2, kq_conf={"init_bw": 2}, name="d")
    model = keras.Model(inp, dense(HQuantize(paq_conf={"init_bw": 2}, name="q")(inp)), name="hand")
    dense.kernel.assign(np.array([[0.5, -0.75], [0.0, 3.0]], "float32"))
    dense.bias.assign(np.array([0.3, -1.0], "float32"))
    hgq.trace_minmax(model, np.array([[0.0, -2.0], [1.5, 0.75]], "float32"))
    return model


def kernel_model():
    """Every kind of kernel layer (Dense, Conv1D, Conv2D, batch-norm fused) in one calibrated model."""
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    a, b = keras.Input((10, 2), name="seq"), keras.Input((6, 6, 1), name="img")
    h1 = HConv1D(3, 3, strides=2, padding="same", activation="relu", kq_conf={"init_bw": 5}, parallel_factor=5,
                 name="c1")(HQuantize(name="qa")(a))
    h2 = HConv2D(4, 3, activation="relu", kq_conf={"init_bw": 5}, name="c2")(HQuantize(name="qb")(b))
    h2 = HConv2DBatchNorm(2, 2, strides=2, padding="same", name="c2bn")(h2)
    flat = PConcatenate(name="cat")([PFlatten(name="f1")(h1), PFlatten(name="f2")(h2)])
    model = keras.Model([a, b], HDenseBatchNorm(3, name="dbn")(HDense(5, activation="relu", name="d")(flat)))
    x = [rng.uniform(-2, 2, (64, 10, 2)).astype("float32"), rng.uniform(-1, 1, (64, 6, 6, 1)).astype("float32")]
    return model, x


@pytest.fixture(scope="module")
def calibrated():
    model, x = kernel_model()
    hgq.trace_minmax(model, x)
    return model, x


def test_hand_counted_weight_bops():
    layer = hand_dense().get_layer("d")
    # widths: inputs (3, 4); weights 0.5 -> 2, -0.75 -> 3, 0 -> 0 (pruned), 3 -> 4
    np.testing.assert_array_equal(cost.weight_bops(layer), [[3 * 2, 3 * 3], [4 * 0, 4 * 4]])
    assert layer.bops() == 31.0


@pytest.mark.parametrize("name", ["c1", "c2", "c2bn", "d", "dbn"])
def test_weight_bops_sum_to_the_layer_bops(calibrated, name):
    layer = calibrated[0].get_layer(name)
    per_weight = cost.weight_bops(layer)
    assert per_weight.shape == tuple(layer.kernel.shape)
    assert np.all(per_weight >= 0) and np.any(per_weight > 0)
    assert float(np.sum(per_weight)) == layer.bops()
    # a pruned weight costs nothing
    assert np.all(per_weight[np.asarray(layer.weight_bits()) == 0] == 0)


def test_report_bops_equal_layer_bops_exactly(calibrated):
    model, x = calibrated
    records = {r.name: r for r in profile(model, x).records}
    assert {name: records[name].bops for name in hgq.layer_bops(model)} == hgq.layer_bops(model)
    assert records["c1"].macs == 5 * 3 * 2 * 3  # 5 output positions x kernel (3 taps, 2 in, 3 out)


def test_plain_proxy_layers_count_like_the_h_layers(calibrated):
    model, _ = calibrated
    proxy = hgq.to_proxy_model(model)
    assert cost.parallel_factors(proxy) == cost.parallel_factors(model) == {"c1": 5, "c2": 1, "c2bn": 1}
    rng = np.random.default_rng(0)
    for name in ("c1", "c2", "d"):
        h, plain = model.get_layer(name), proxy.get_layer(name)
        assert type(plain) in (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Dense)
        in_bits = rng.integers(0, 9, (1, *h.input_bits().shape[1:])).astype(np.float64)
        (h_view,), (plain_view,) = cost.kernel_views(h), cost.kernel_views(plain)
        np.testing.assert_array_equal(plain_view.weight_input_bits(in_bits), h_view.weight_input_bits(in_bits))
        # the per-weight sum equals the layer applied to the widths (its matrix product), summed over every output
        w_bits, geometry = plain_view.weight_bits(), plain_view.geometry
        applied = geometry.columns(in_bits[0]) @ geometry.kernel_matrix(w_bits)
        assert float(np.sum(cost.weight_bops(plain, in_bits))) == float(np.sum(applied))
        # minimal widths of the exported values never exceed the quantizer's
        assert np.all(w_bits <= np.asarray(h.weight_bits()))


def test_layer_costs_of_a_float_input_are_unknown():
    inp = keras.Input((3,))
    dense = keras.layers.Dense(2)
    keras.Model(inp, dense(inp))
    costs = cost.layer_costs(dense, [None])
    assert (costs.params, costs.macs, costs.bops, costs.lut_est) == (8, 6, None, None)
    with pytest.raises(ValueError, match="does not multiply by one kernel"):
        cost.weight_bops(keras.layers.ReLU())


def test_bit_width_summary_matches_the_report(calibrated):
    model, x = calibrated
    summary = hgq.bit_width_summary(model)
    records = {r.name: r for r in profile(model, x).records}
    for name in ("c1", "dbn"):
        assert (summary[name]["kernel"]["mean"], summary[name]["kernel"]["max"], summary[name]["kernel"]["pruned"]) \
            == (records[name].weight_bits_mean, records[name].weight_bits_max, records[name].pruned_fraction)
        assert summary[name]["output"]["mean"] == records[name].act_bits_mean


# --- the input-data checker -----------------------------------------------------------------------------------


def test_data_checker_counts_the_arrays(calibrated):
    model, x = calibrated
    with pytest.raises(ValueError, match=r"^who: model '.*' has 2 input\(s\) of shape\(s\) \(None, 10, 2\), "
                                         r"\(None, 6, 6, 1\), but the data holds 1 array\(s\)$"):
        input_arrays(model, x[0], "who")
    arrays = input_arrays(model, tuple(x), "who")
    assert len(arrays) == 2 and all(isinstance(a, np.ndarray) for a in arrays)


def test_data_checker_names_the_input_and_both_shapes(calibrated):
    model, x = calibrated
    with pytest.raises(ValueError) as info:
        input_arrays(model, [x[0], np.zeros((64, 6, 5, 1))], "profile")
    message = str(info.value)
    assert message.startswith("profile: data does not match input 'img': expected shape (None, 6, 6, 1), got "
                              "(64, 6, 5, 1)")
    assert "data of shape (64, 6, 5, 1) does not match input 1 of shape (None, 6, 6, 1)" in message
    with pytest.raises(ValueError, match=r"expected shape \(None, 10, 2\), got \(10, 2\)"):
        input_arrays(model, [x[0][0], x[1]], "profile")  # one sample without its batch axis


def test_data_checker_wants_one_sample_count(calibrated):
    model, x = calibrated
    with pytest.raises(ValueError, match="^trace_minmax: all input arrays must hold the same number of samples, "
                                         "got 64, 63$"):
        hgq.trace_minmax(model, [x[0], x[1][:63]])


@pytest.mark.once
@pytest.mark.parametrize("n, size", [(1, 1), (5, 8), (1000, 1024), (1024, 1024), (3000, 1024)])
def test_batches_of_one_size_cover_every_sample_once(n, size):
    """Every batch holds ``batch_size`` samples, or the power of two at or above fewer samples; the real samples come
    once each, in order, the last batch filled up with the first ones."""
    x = np.arange(n * 2).reshape(n, 2)
    batches = list(same_size_batches([x, -x], 1024))
    assert {len(batch[0]) for _, batch in batches} == {size}
    assert [end for end, _ in batches] == [min(n, size * (i + 1)) for i in range(len(batches))]
    real = np.concatenate([batch[0] for _, batch in batches])
    assert np.array_equal(real[:n], x) and np.array_equal(real[n:], x[:len(real) - n])
    assert all(np.array_equal(b, -a) for _, (a, b) in batches)
