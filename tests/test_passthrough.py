"""P-layers (bit widths carried through flatten/reshape/concatenate/pooling) and Signature: the rules of their types,
BOPs after them, refusals (in trained models: ``test_passthrough_models``; each layer alone: ``test_layers``)."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import (HDense, HQuantize, PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten,
                        PMaxPooling1D, PMaxPooling2D, PReshape, Signature)


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
