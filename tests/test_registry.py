"""The one converter registry: lookup by class along the MRO, by Keras 2 class name, and its refusals."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HDense, HDenseBatchNorm, HQuantize
from hgq.proxy.convert import PROXY_DTYPE
from hgq.proxy.converters import kernel
from hgq.proxy.registry import Context, SavedLayer, convert, converter_of, register
from hgq.qkeras import converters as qkeras_converters


class Doubler(keras.layers.Layer):
    def call(self, x):
        return 2.0 * x


class Tripler(Doubler):
    def call(self, x):
        return 3.0 * x


class SubDoubler(Doubler):
    pass


@register(Doubler, "Doubler")
def convert_doubler(layer, inputs, ctx):
    x = inputs[0].tensor if isinstance(layer, SavedLayer) else inputs
    y = keras.layers.Rescaling(2.0, name=layer.name, dtype=PROXY_DTYPE)(x)
    return qkeras_converters.Node(y, True) if isinstance(layer, SavedLayer) else y


@register(Tripler)
def convert_tripler(layer, x, ctx):
    return keras.layers.Rescaling(3.0, name=layer.name, dtype=PROXY_DTYPE)(x)


def test_a_registered_converter_is_used_by_to_proxy_model():
    inp = keras.Input((3,))
    model = keras.Model(inp, Doubler(name="twice")(HQuantize(name="q")(inp)))
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert isinstance(proxy.get_layer("twice"), keras.layers.Rescaling)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))


def test_lookup_follows_the_mro():
    assert converter_of(SubDoubler()) is convert_doubler
    assert converter_of(Tripler()) is convert_tripler  # its own converter wins over its parent's
    assert converter_of(HDenseBatchNorm(4)) is kernel.convert_dense
    assert converter_of(keras.layers.Dense(4)) is None


def test_unknown_layers_are_named():
    ctx = Context("to_proxy_model", aggressive=True)
    with pytest.raises(ValueError, match="to_proxy_model: layer 'drop' of type Dropout cannot be exported"):
        convert(keras.layers.Dropout(0.1, name="drop"), None, ctx)
    saved = SavedLayer("QBatchNormalization", {"name": "bn"}, [])
    with pytest.raises(ValueError, match=r"layer 'bn' \(QBatchNormalization\): layer class 'QBatchNormalization'"):
        convert(saved, [], Context("from_qkeras", aggressive=False))


def test_one_registry_serves_hgq_layers_and_saved_keras2_layers():
    assert converter_of(HDense(4)) is kernel.convert_dense
    assert converter_of(SavedLayer("QDense", {"name": "d"}, [])) is qkeras_converters.convert_dense
    assert converter_of(SavedLayer("Doubler", {"name": "d"}, [])) is convert_doubler
    assert converter_of(SavedLayer("SubDoubler", {"name": "d"}, [])) is None  # names are not classes: no MRO
    inp = keras.Input((3,), dtype=PROXY_DTYPE)
    node = convert(SavedLayer("Doubler", {"name": "d2"}, []), [qkeras_converters.Node(inp, True)],
                   Context("from_qkeras", aggressive=False))
    proxy = keras.Model(inp, node.tensor)
    assert np.array_equal(proxy.predict(np.ones((2, 3)), verbose=0), np.full((2, 3), 2.0))
