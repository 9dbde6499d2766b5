"""HAdd (residual sums) and nested models in to_proxy_model.

The hls4ml cases are compiled side by side as one project (``bitexact.SideBySide``, the ``add_projects`` fixture)."""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HActivation, HAdd, HDense, HQuantize, PConcatenate
from bitexact import SideBySide, check_bit_exact
from conftest import regression_data


def no_nested_models(proxy):
    return not any(isinstance(layer, keras.Model) for layer in proxy.layers)


def residual_model(epochs=2):
    """HQuantize -> HDense(relu) -> [HDense, HActivation(relu)] -> HAdd -> PConcatenate with a third HDense branch
    -> HDense, trained with beta > 0 and calibrated."""
    keras.utils.set_random_seed(0)
    x, y = regression_data(1000, n_in=8, n_out=3)
    inp = keras.Input((8,))
    h = HQuantize(paq_conf={"init_bw": 5}, name="q")(inp)
    h = HDense(8, activation="relu", beta=1e-5, name="d0")(h)
    a = HDense(8, beta=1e-5, name="branch")(h)
    r = HActivation("relu", name="ident")(h)
    s = HAdd(name="add")([a, r])
    c = HDense(4, activation="relu", beta=1e-5, name="side")(h)
    out = HDense(3, beta=1e-5, name="out")(PConcatenate(name="cat")([s, c]))
    model = keras.Model(inp, out)
    if epochs:
        model.compile(keras.optimizers.Adam(3e-3), "mse")
        model.fit(x, y, epochs=epochs, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


def with_proxy(build, aggressive=True):
    """``(model, proxy, x)`` of ``build()``'s model and data."""
    model, x = build()
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x


@pytest.fixture(scope="module")
def add_projects(tmp_path_factory):
    """The residual model (WRAP, SAT) and the nested one side by side: one hls4ml project (io_parallel)."""
    projects = SideBySide(tmp_path_factory.mktemp("add"))
    for aggressive in (True, False):
        projects.add(("residual", aggressive), functools.partial(with_proxy, residual_model, aggressive),
                     "io_parallel")
    projects.add("nested", functools.partial(with_proxy, nested_model), "io_parallel")
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_add")  # the worker that compiles the shared project checks every case
@pytest.mark.parametrize("aggressive", [True, False], ids=["WRAP", "SAT"])
def test_residual_add_bit_exact(aggressive, add_projects):
    model, proxy, x, part = add_projects(("residual", aggressive), "io_parallel")
    assert isinstance(proxy.get_layer("add"), keras.layers.Add)
    assert proxy.get_layer("add_q").RND == "TRN"  # rnd_strategy='auto' floors
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


def test_add_bops_are_zero_and_auto_floors():
    """Hand count: the model's BOPs are the two dense layers' only; the adder adds none."""
    inp = keras.Input((2,))
    q = HQuantize(name="q")
    d = HDense(2, use_bias=False, name="d")
    add = HAdd(name="add")
    h = q(inp)
    model = keras.Model(inp, add([d(h), h]))
    assert add.paq.rounding == "floor"
    # q's elements: [-0.5, 0.75] -> fixed<k=1, i=0, f=2> (3 bits); [-1, 1.25] -> fixed<k=1, i=1, f=2> (4 bits)
    x = np.array([[0.75, -1.0], [-0.5, 1.25]], "float32")
    hgq.trace_minmax(model, x)
    d.kernel.assign(np.array([[0.5, -0.75], [0.0, 3.0]], "float32"))  # widths 2, 3, 0, 4
    assert add.bops() == 0.0
    assert hgq.layer_bops(model) == {"q": 0.0, "d": 3 * 2 + 3 * 3 + 4 * 0 + 4 * 4, "add": 0.0}


def test_three_inputs_proxy_is_a_chain_of_adds():
    keras.utils.set_random_seed(1)
    x, _ = regression_data(500, n_in=4)
    inp = keras.Input((4,))
    h = HQuantize(paq_conf={"init_bw": 4})(inp)
    model = keras.Model(inp, HAdd(paq_conf={"rnd_strategy": "standard_round"}, name="add3")(
        [HDense(4, name="a")(h), HDense(4, name="b")(h), h]))
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert [type(proxy.get_layer(n)).__name__ for n in ("add3", "add3_1")] == ["Add", "Add"]
    assert proxy.get_layer("add3_q").RND == "RND"
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unquantized_input_is_refused_with_names():
    a, b = keras.Input((3,), name="raw"), keras.Input((3,))
    add = HAdd(name="add")
    model = keras.Model([a, b], add([a, HQuantize(name="q")(b)]))
    with pytest.raises(ValueError, match="HAdd 'add' receives an unquantized input from InputLayer 'raw'"):
        hgq.total_bops(model)


# ---------------------------------------------------------------------------------------------- nested models


def nested_model():
    """HQuantize -> HDense(relu) -> Sequential block [HActivation(relu), HDense, HActivation(linear)] -> HAdd with
    the block's input (residual) -> HDense."""
    keras.utils.set_random_seed(2)
    x, y = regression_data(1000, n_in=6, n_out=2)
    inp = keras.Input((6,))
    h = HDense(8, activation="relu", beta=1e-5, name="d0")(HQuantize(paq_conf={"init_bw": 5}, name="q")(inp))
    block = keras.Sequential([keras.Input((8,)), HActivation("relu", name="b_act"), HDense(8, beta=1e-5, name="b_d"),
                              HActivation("linear", name="b_lin")], name="block")
    out = HDense(2, name="out")(HAdd(name="add")([block(h), h]))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=2, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_add")
def test_nested_sequential_is_flattened_and_bit_exact(add_projects):
    model, proxy, x, part = add_projects("nested", "io_parallel")
    assert any(isinstance(layer, keras.Model) for layer in model.layers)
    assert no_nested_models(proxy)
    assert {"b_act", "b_act_q", "b_d", "b_d_q", "b_lin_q"} <= {layer.name for layer in proxy.layers}
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


def test_nested_functional_model_is_flattened():
    keras.utils.set_random_seed(3)
    x, _ = regression_data(300, n_in=4)
    sub_in = keras.Input((4,))
    sub = keras.Model(sub_in, HActivation("relu", name="s_act")(sub_in), name="sub")
    inp = keras.Input((4,))
    model = keras.Model(inp, HAdd(name="add")([sub(HQuantize(name="q")(inp)), HQuantize(name="q2")(inp)]))
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert no_nested_models(proxy)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unexportable_layer_in_nested_model_is_named():
    x, _ = regression_data(100, n_in=4)
    inp = keras.Input((4,))
    block = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.1, name="drop_in_block")], name="block")
    model = keras.Model(inp, HActivation("relu", name="act")(block(HQuantize(name="q")(inp))))
    hgq.trace_minmax(model, x)
    with pytest.raises(ValueError, match="'drop_in_block' of type Dropout cannot be exported"):
        hgq.to_proxy_model(model)
