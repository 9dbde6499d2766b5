"""Subclassed models (a keras.Model with its own call): the BOPs of training and every tool that walks the model's
graph refuse them by name, saying how to build the model instead."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HDense, HQuantize
from hgq.profiling import numerical, profile

HOW = r"subclassed keras\.Model \(Subclassed\), whose graph is its own call method; build it from the same layers " \
      r"with the functional API"


class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.q, self.d = HQuantize(name="q"), HDense(3, beta=1e-4, name="d")

    def call(self, x, training=None):
        return self.d(self.q(x, training=training), training=training)


@pytest.fixture
def built():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    model = Subclassed(name="sub")
    model(x, training=False)
    return model, x


def test_training_needs_the_graph_for_the_bops(built):
    model, x = built  # a failed fit may leave the model unusable (on JAX): a fresh model per test
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="HDense 'd' has not been connected in a functional or Sequential model, so "
                                         r"the bit widths of its input are unknown \(a subclassed model's call method "
                                         r"is no graph hgq can read\): build the model with the functional API"):
        model.fit(x, x[:, :3], epochs=1, verbose=0)


@pytest.mark.parametrize("who", ["trace_minmax", "to_proxy_model", "profile", "numerical"])
def test_tools_that_walk_the_graph_refuse_a_subclassed_model(built, who):
    model, x = built
    call = {"trace_minmax": lambda: hgq.trace_minmax(model, x), "to_proxy_model": lambda: hgq.to_proxy_model(model),
            "profile": lambda: profile(model, x), "numerical": lambda: numerical(model=model)}[who]
    with pytest.raises(ValueError, match=rf"^{who}: model 'sub' is a {HOW}"):
        call()


def test_a_nested_subclassed_model_is_refused_too(built):
    inner, x = built
    inp = keras.Input((4,))
    outer = keras.Model(inp, inner(inp), name="outer")
    with pytest.raises(ValueError, match=rf"^trace_minmax: model 'sub' is a {HOW}"):
        hgq.trace_minmax(outer, x)
