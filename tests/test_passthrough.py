"""P-layers (bit widths carried through flatten/reshape/concatenate/pooling) and Signature."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import (HDense, HQuantize, PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten,
                        PMaxPooling1D, PMaxPooling2D, PReshape, Signature)
from hgq.proxy import FixedPointQuantizer

from bitexact import check_bit_exact


def kif_of(layer):
    return tuple(np.asarray(keras.ops.convert_to_numpy(a), dtype=np.float64) for a in layer.output_kif())


def sig(k, b, integers, name="sig"):
    """Signature from per-element hls4ml (keep_negative, bits, integers)."""
    return Signature(keep_negative=k, bits=b, int_bits=integers, name=name)


def assert_kif(layer, k, i, f):
    got = kif_of(layer)
    for name, g, e in zip("kif", got, (k, i, f)):
        e = np.asarray(e, dtype=np.float64)
        assert g.shape == e.shape and np.array_equal(g, e), f"{layer.name}.{name}: {g.tolist()} != {e.tolist()}"


# ---------------------------------------------------------------------------------------------- output_kif


def test_signature_kif_follows_hls4ml_convention():
    inp = keras.Input((3,))
    s = sig([1, 0, 1], [8, 4, 0], [3, 2, 5])
    keras.Model(inp, s(inp))
    # ap_fixed<8,3>: k=1, i=2, f=5; ap_ufixed<4,2>: k=0, i=2, f=2; bits=0: always zero -> (0, 0, 0)
    assert_kif(s, [[1, 0, 0]], [[2, 2, 0]], [[5, 2, 0]])


def test_flatten_and_reshape_kif():
    inp = keras.Input((2, 2, 1))
    s = sig([[[1], [0]], [[0], [1]]], [[[4], [3]], [[2], [6]]], [[[2], [3]], [[0], [1]]])
    fl, rs = PFlatten(name="fl"), PReshape((2, 2), name="rs")
    keras.Model(inp, rs(fl(s(inp))))
    # elements (k, i, f): (1,1,2) (0,3,0) (0,0,2) (1,0,5)
    assert_kif(fl, [[1, 0, 0, 1]], [[1, 3, 0, 0]], [[2, 0, 2, 5]])
    assert_kif(rs, [[[1, 0], [0, 1]]], [[[1, 3], [0, 0]]], [[[2, 0], [2, 5]]])


def test_flatten_broadcasts_a_homogeneous_type():
    inp = keras.Input((2, 3))
    fl = PFlatten()
    keras.Model(inp, fl(Signature(keep_negative=0, bits=6, int_bits=2)(inp)))
    assert_kif(fl, np.zeros((1, 6)), np.full((1, 6), 2), np.full((1, 6), 4))


def test_flatten_channels_first_follows_keras_order():
    inp = keras.Input((2, 3))
    s = sig(0, [[1, 2, 3], [4, 5, 6]], 0)
    fl = PFlatten(data_format="channels_first")
    keras.Model(inp, fl(s(inp)))
    # Keras moves the channel axis last before flattening: order (0,0) (1,0) (0,1) (1,1) ...
    assert_kif(fl, np.zeros((1, 6)), np.zeros((1, 6)), [[1, 4, 2, 5, 3, 6]])


def test_concatenate_kif():
    a, b = keras.Input((2,)), keras.Input((3,))
    sa = sig([1, 0], [5, 3], [2, 1], name="sa")
    sb = sig(1, [4, 6, 2], [4, 0, 1], name="sb")
    cat = PConcatenate(name="cat")
    keras.Model([a, b], cat([sa(a), sb(b)]))
    assert_kif(cat, [[1, 0, 1, 1, 1]], [[1, 1, 3, -1, 0]], [[3, 2, 0, 6, 1]])


def test_max_and_average_pooling_2d_kif():
    inp = keras.Input((2, 4, 1))
    # window 0 (columns 0-1): (1,1,2) (0,3,0) / (0,0,2) (1,0,5)      -> union (1, 3, 5)
    # window 1 (columns 2-3): (0,-2,4) zero / zero zero             -> union (0, -2, 4); zeros are neutral
    s = sig([[[1], [0], [0], [0]], [[0], [1], [0], [0]]],
            [[[4], [3], [2], [0]], [[2], [6], [0], [0]]],
            [[[2], [3], [-2], [0]], [[0], [1], [0], [0]]])
    x = s(inp)
    mp, ap = PMaxPooling2D(2, name="mp"), PAveragePooling2D(2, name="ap")
    keras.Model(inp, [mp(x), ap(x)])
    assert_kif(mp, [[[[1], [0]]]], [[[[3], [-2]]]], [[[[5], [4]]]])
    # average over N = 4: f grows by 2
    assert_kif(ap, [[[[1], [0]]]], [[[[3], [-2]]]], [[[[7], [6]]]])


def test_pooling_1d_kif_and_all_zero_window():
    inp = keras.Input((6, 1))
    # (1,1,2) (0,3,0) | (0,2,0) (1,0,5) | zero zero
    s = sig([[1], [0], [0], [1], [0], [0]], [[4], [3], [2], [6], [0], [0]], [[2], [3], [2], [1], [0], [0]])
    x = s(inp)
    mp, ap = PMaxPooling1D(2, name="mp"), PAveragePooling1D(2, name="ap")
    keras.Model(inp, [mp(x), ap(x)])
    assert_kif(mp, [[[1], [1], [0]]], [[[3], [2], [0]]], [[[2], [5], [0]]])
    assert_kif(ap, [[[1], [1], [0]]], [[[3], [2], [0]]], [[[3], [6], [0]]])


def test_average_pooling_same_padding_power_of_two_edges():
    """Length 7, pool 2, stride 2, 'same': the last pool holds one real element (N = 1, f unchanged)."""
    inp = keras.Input((7, 1))
    ap = PAveragePooling1D(2, padding="same")
    keras.Model(inp, ap(Signature(keep_negative=1, bits=6, int_bits=3)(inp)))
    assert_kif(ap, np.ones((1, 4, 1)), np.full((1, 4, 1), 2), [[[4], [4], [4], [3]]])


def test_kif_of_hquantize_input_is_broadcast():
    inp = keras.Input((4, 4, 1))
    q = HQuantize(paq_conf={"skip_dims": "all", "init_bw": 3})
    mp = PMaxPooling2D(2)
    model = keras.Model(inp, mp(q(inp)))
    hgq.trace_minmax(model, np.linspace(-1, 0.875, 64, dtype="float32").reshape(4, 4, 4, 1))
    k, i, f = kif_of(mp)
    assert k.shape == (1, 2, 2, 1) and np.all(k == 1) and np.all(i == 0) and np.all(f == 3)


# ---------------------------------------------------------------------------------------------- BOPs


def _tiny_bops_model(p_layer, n_in):
    keras.utils.set_random_seed(0)
    inp = keras.Input((n_in, 1))
    # (k, i, f): (1,1,2) (0,3,0) (0,2,0) (1,0,5)   widths 4, 3, 2, 6
    s = sig([[1], [0], [0], [1]], [[4], [3], [2], [6]], [[2], [3], [2], [1]])
    dense = HDense(1, use_bias=False, name="d")
    model = keras.Model(inp, dense(PFlatten()(p_layer(s(inp)))))
    return model, dense


def _set_kernel(dense, values):
    dense.kernel.assign(np.asarray(values, "float32").reshape(-1, 1))  # exact at the default 2 fractional bits
    dense.paq.vmin.assign(np.full(dense.paq.vmin.shape, -1.0, "float32"))
    dense.paq.vmax.assign(np.full(dense.paq.vmax.shape, 1.0, "float32"))


def test_bops_after_flatten_use_the_carried_widths():
    model, dense = _tiny_bops_model(lambda x: x, 4)
    _set_kernel(dense, [0.5, -0.75, 0.0, 3.0])  # weight widths 2, 3, 0, 4
    assert dense.bops() == 4 * 2 + 3 * 3 + 2 * 0 + 6 * 4 == 41
    assert hgq.total_bops(model) == 41


def test_bops_after_pooling_use_the_pooled_widths():
    model, dense = _tiny_bops_model(PMaxPooling1D(2), 4)
    _set_kernel(dense, [0.5, -0.75])
    # windows: union (1,3,2) -> 6 bits; union (1,2,5) -> 8 bits
    assert dense.bops() == 6 * 2 + 8 * 3 == 36
    model, dense = _tiny_bops_model(PAveragePooling1D(2), 4)
    _set_kernel(dense, [0.5, -0.75])
    assert dense.bops() == 7 * 2 + 9 * 3  # one more fractional bit per window


def test_unquantized_input_is_refused_with_names():
    inp = keras.Input((2, 2))
    fl = PFlatten(name="flat")
    dense = HDense(2, name="d")
    keras.Model(inp, dense(fl(inp)))
    with pytest.raises(ValueError, match="PFlatten 'flat' receives an unquantized input"):
        dense.bops()


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("make", [lambda: PAveragePooling2D(3, name="avg3"),
                                  lambda: PAveragePooling2D((2, 3), name="avg3"),
                                  lambda: PAveragePooling1D(6, name="avg3")])
def test_average_pooling_non_power_of_two_is_refused(make):
    with pytest.raises(ValueError, match="PAveragePooling.D 'avg3'.*not a power of two"):
        make()


def test_average_pooling_same_padding_bad_edge_pools_is_refused():
    # rows: 5 = pools of 3 and 2 real elements (padding 1 before, 2 after); columns: 4 -> edge pool areas 12, 8
    with pytest.raises(ValueError, match=r"PAveragePooling2D 'edge'.*\[12\].*'same' padding"):
        PAveragePooling2D(4, padding="same", name="edge")(keras.Input((5, 4, 1)))


@pytest.mark.parametrize("kwargs, match", [
    (dict(keep_negative=2, bits=8, int_bits=1), "keep_negative"),
    (dict(keep_negative=1, bits=-1, int_bits=1), "bits"),
    (dict(keep_negative=1, bits=3.5, int_bits=1), "bits"),
    (dict(keep_negative=1, bits=[8, 8], int_bits=[1, 1, 1]), "do not broadcast"),
])
def test_signature_bad_values_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=f"Signature 'adc'.*{match}"):
        Signature(name="adc", **kwargs)


def test_signature_shape_mismatch_with_input_is_refused():
    with pytest.raises(ValueError, match="Signature 'adc'.*does not broadcast to the input feature shape"):
        Signature(keep_negative=1, bits=[8, 8, 8], int_bits=1, name="adc")(keras.Input((4,)))


# ---------------------------------------------------------------------------------------------- configs


@pytest.mark.parametrize("layer", [
    PFlatten(name="a"), PReshape((4, 2), name="b"), PConcatenate(axis=1, name="c"),
    PMaxPooling1D(2, strides=1, name="d"), PMaxPooling2D((2, 1), name="e"),
    PAveragePooling1D(4, name="f"), PAveragePooling2D((2, 4), padding="same", name="g"),
    Signature(keep_negative=[0, 1], bits=[[6, 5]], int_bits=2, name="h"),
], ids=lambda layer: type(layer).__name__)
def test_get_config_round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer)).get_config() \
        == layer.get_config()


# ---------------------------------------------------------------------------------------------- end to end


def pooling_model(io_type):
    """HQuantize (8,8,2) -> PMaxPooling2D -> PAveragePooling2D(2) -> PFlatten -> HDense -> PReshape -> PFlatten
    -> HDense, trained two epochs with beta > 0 and calibrated."""
    keras.utils.set_random_seed(0)
    paq = {"skip_dims": "all"} if io_type == "io_stream" else {}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 8, 8, 2)).astype("float32")
    y = np.tanh(x.reshape(1000, 4, 32).mean(axis=-1) * 3).astype("float32")
    inp = keras.Input((8, 8, 2))
    h = HQuantize(paq_conf={**paq, "init_bw": 4}, name="q")(inp)
    h = PMaxPooling2D(2, strides=1 if io_type == "io_parallel" else 2, name="mp")(h)  # io_stream: pool == stride
    h = PAveragePooling2D(2, name="ap")(h)
    h = PFlatten(name="fl")(h)
    h = HDense(8, activation="relu", beta=1e-5, paq_conf=paq, name="d1")(h)
    h = PReshape((2, 4), name="rs")(h)
    h = PFlatten(name="fl2")(h)
    model = keras.Model(inp, HDense(4, beta=1e-5, paq_conf=paq, name="d2")(h))
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=2, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


def concat_model():
    """Signature (heterogeneous ADC types) on an (8, 2) input -> two branches (max / average pooling 1D,
    flatten, HDense) -> PConcatenate -> HDense."""
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    k = rng.integers(0, 2, size=(8, 2))
    b = rng.integers(2, 7, size=(8, 2))
    integers = rng.integers(-1, 3, size=(8, 2)) + k
    lo = np.where(k == 1, -(2.0 ** (b - 1)), 0)
    hi = np.where(k == 1, 2.0 ** (b - 1), 2.0 ** b) - 1
    x = (np.floor(rng.uniform(lo, hi + 1, size=(1000, 8, 2))) * 2.0 ** (integers - b)).astype("float32")
    y = np.stack([x.sum(axis=(1, 2)), x[:, :4].max(axis=(1, 2))], axis=1).astype("float32")
    inp = keras.Input((8, 2))
    s = Signature(keep_negative=k, bits=b, int_bits=integers, name="adc")(inp)
    a = HDense(5, activation="relu", beta=1e-5, name="da")(PFlatten(name="fa")(PMaxPooling1D(2, name="mp")(s)))
    c = HDense(4, beta=1e-5, name="dc")(PFlatten(name="fc")(PAveragePooling1D(4, name="ap")(s)))
    out = HDense(2, beta=1e-5, name="out")(PConcatenate(name="cat")([a, c]))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=2, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


@pytest.fixture(scope="module")
def pooling_parallel():
    return pooling_model("io_parallel")


@pytest.fixture(scope="module")
def concat():
    return concat_model()


def test_proxy_layers(pooling_parallel, concat):
    proxy = hgq.to_proxy_model(pooling_parallel[0])
    types = {layer.name: type(layer).__name__ for layer in proxy.layers}
    assert types["mp"] == "MaxPooling2D" and types["ap"] == "AveragePooling2D" and types["fl"] == "Flatten"
    assert types["rs"] == "Reshape" and all(layer.dtype == "float64" for layer in proxy.layers[1:])
    proxy = hgq.to_proxy_model(concat[0])
    adc = proxy.get_layer("adc")
    assert isinstance(adc, FixedPointQuantizer) and (adc.RND, adc.SAT) == ("TRN", "WRAP")
    assert adc.kbi()[0].shape == (1, 8, 2) and type(proxy.get_layer("cat")).__name__ == "Concatenate"


def test_bops_see_through_p_layers(pooling_parallel):
    model, _ = pooling_parallel
    d1 = model.get_layer("d1")
    fl = model.get_layer("fl")
    in_bits = keras.ops.convert_to_numpy(fl.output_bits()).reshape(-1)
    w_bits = keras.ops.convert_to_numpy(d1.kq.bits(d1.quantized_kernel(False)))
    assert d1.bops() == pytest.approx(float(in_bits @ w_bits.sum(axis=1)))
    assert d1.bops() > 0


@pytest.mark.hls4ml
@pytest.mark.parametrize("aggressive", [True, False], ids=["WRAP", "SAT"])
def test_pooling_chain_io_parallel_bit_exact(pooling_parallel, aggressive, hls4ml_projects):
    model, x = pooling_parallel
    proxy = hgq.to_proxy_model(model, aggressive=aggressive)
    check_bit_exact(proxy, x, hls4ml_projects(proxy, "io_parallel"), model=model, scales=(3.0,))


@pytest.mark.hls4ml
def test_pooling_chain_io_stream_bit_exact(hls4ml_projects):
    model, x = pooling_model("io_stream")
    proxy = hgq.to_proxy_model(model, aggressive=True)
    check_bit_exact(proxy, x, hls4ml_projects(proxy, "io_stream"), model=model, scales=(3.0,))


@pytest.mark.hls4ml
def test_signature_concatenate_io_parallel_bit_exact(concat, hls4ml_projects):
    model, x = concat
    proxy_sat = hgq.to_proxy_model(model, aggressive=False)
    assert np.array_equal(proxy_sat.predict(x, verbose=0), model.predict(x, verbose=0))
    proxy = hgq.to_proxy_model(model, aggressive=True)
    check_bit_exact(proxy, x, hls4ml_projects(proxy, "io_parallel"), model=model, scales=(3.0,))


def test_keras_save_load_round_trip(concat, pooling_parallel, tmp_path):
    for model, x in (concat, pooling_parallel):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        assert [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
        assert np.array_equal(loaded.predict(x[:200], verbose=0), model.predict(x[:200], verbose=0))
        assert hgq.total_bops(loaded) == hgq.total_bops(model)
        proxy = hgq.to_proxy_model(loaded)
        assert np.array_equal(proxy.predict(x[:200], verbose=0), model.predict(x[:200], verbose=0))
        proxy.save(tmp_path / "proxy.keras")
        reloaded = keras.models.load_model(tmp_path / "proxy.keras")
        assert np.array_equal(reloaded.predict(x[:200], verbose=0), model.predict(x[:200], verbose=0))


@pytest.mark.hls4ml
def test_average_pooling_same_padding_io_parallel_bit_exact(hls4ml_projects):
    """(7, 5) with pool 2, stride 2, 'same': pools of 4, 2 and 1 real elements; hls4ml divides like Keras."""
    keras.utils.set_random_seed(0)
    x = (np.random.default_rng(0).integers(-32, 32, size=(1000, 7, 5, 2)) / 8).astype("float32")
    inp = keras.Input((7, 5, 2))
    ap = PAveragePooling2D(2, padding="same", name="ap")
    h = PFlatten()(ap(Signature(keep_negative=1, bits=6, int_bits=3)(inp)))
    model = keras.Model(inp, HDense(3, name="d")(h))
    hgq.trace_minmax(model, x)
    f = kif_of(ap)[2][0, :, :, 0]
    assert np.array_equal(f, [[5, 5, 4], [5, 5, 4], [5, 5, 4], [4, 4, 3]])
    proxy = hgq.to_proxy_model(model)
    check_bit_exact(proxy, x, hls4ml_projects(proxy, "io_parallel"), model=model, scales=(3.0,))
