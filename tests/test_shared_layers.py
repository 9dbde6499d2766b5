"""A layer called on two different inputs (a shared layer) is refused with a clear error everywhere its costs or
export are needed; a Sequential model rebuilding itself (which calls its layers again) is not a shared layer."""

import keras
import numpy as np
import pytest

import hgq
from hgq.graph import SharedLayerError
from hgq.layers import HDense, HQuantize
from hgq.profiling import profile

from conftest import regression_data

SHARED = r"HDense 'shared' is called on 2 different inputs.*use one layer per call"


def shared_dense_model():
    """Two inputs quantized differently, both fed to one HDense."""
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    qa = HQuantize(paq_conf={"init_bw": 2}, name="qa")(a)
    qb = HQuantize(paq_conf={"init_bw": 6}, name="qb")(b)
    dense = HDense(3, beta=1e-4, name="shared")
    return keras.Model([a, b], keras.layers.Concatenate()([dense(qa), dense(qb)]))


def data(n=64):
    x, _ = regression_data(n, n_in=6)
    return [x, 2 * x]


def test_costs_and_export_refuse_a_layer_called_on_two_inputs():
    model = shared_dense_model()
    with pytest.raises(SharedLayerError, match=SHARED):
        hgq.trace_minmax(model, data())
    with pytest.raises(SharedLayerError, match=SHARED):
        hgq.total_bops(model)
    with pytest.raises(SharedLayerError, match=SHARED):
        profile(model)
    with pytest.raises(SharedLayerError, match="'shared' is called on more than one input in model"):
        hgq.to_proxy_model(model)


def test_training_refuses_a_layer_called_on_two_inputs():
    model = shared_dense_model()
    model.compile("adam", "mse")
    with pytest.raises(SharedLayerError, match=SHARED):
        model.fit(data(), np.zeros((64, 6)), epochs=1, verbose=0)


def test_a_model_reused_twice_is_refused_at_export():
    inner_in = keras.Input((6,))
    block = keras.Model(inner_in, HQuantize(name="q_in_block")(inner_in), name="block")
    a, b = keras.Input((6,)), keras.Input((6,))
    model = keras.Model([a, b], keras.layers.Add()([block(a), block(b)]))
    with pytest.raises(SharedLayerError, match="'block' is called on more than one input"):
        hgq.to_proxy_model(model)


def test_sequential_built_layer_by_layer_is_not_shared():
    # every add() rebuilds the Sequential model, calling its layers again on a new input
    model = keras.Sequential([keras.Input((6,))])
    model.add(HQuantize(paq_conf={"init_bw": 3}, name="q"))
    model.add(HDense(4, name="d1"))
    model.add(HDense(2, name="d2"))
    x, _ = regression_data(200, n_in=6)
    bops = hgq.trace_minmax(model, x)
    d1, d2 = model.get_layer("d1"), model.get_layer("d2")
    by_hand = sum(float(np.sum(np.asarray(layer.input_bits()).reshape(-1, 1) * np.asarray(layer.weight_bits())))
                  for layer in (d1, d2))
    assert bops == by_hand > 0
    proxy = hgq.to_proxy_model(model)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
