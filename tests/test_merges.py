"""The merge family beyond the per-layer checks of ``test_layers``: HMultiply's BOPs by hand (two and three inputs,
in training, in the cost report), the type rules of the plain merges against hls4ml's own, three-input chains
bit-exact through hls4ml (io_parallel and io_stream, Latency and distributed arithmetic), what is refused; HAdd in
residual sums (BOPs, rounding, three inputs) and nested models flattened by to_proxy_model. The hls4ml cases are
compiled side by side, one project per io type and strategy (``bitexact.SideBySide``, the ``merges_projects`` and
``add_projects`` fixtures)."""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.cost import layer_costs
from hgq.layers import (HActivation, HAdd, HDense, HMaximum, HMinimum, HMultiply, HQuantize, HSubtract, PConcatenate,
                        Signature)
from hgq.profiling import profile
from hgq.proxy import convert_to_hls4ml
from hgq.quantizer.types import kbi_from_kif, kif_from_kbi
from hgq.specs import find_spec

from bitexact import SideBySide, check_bit_exact, with_proxy
from conftest import on_grid, regression_data

#: Declared input types, hls4ml's (keep_negative, bits, integers) per element: a = [fixed<3,1>, ufixed<4,2>],
#: b = [fixed<4,2>, fixed<2,1>], c = [ufixed<5,1>, fixed<3,2>]; widths a [3, 4], b [4, 2], c [5, 3].
TYPES = {"a": ([1, 0], [3, 4], [1, 2]), "b": ([1, 1], [4, 2], [2, 1]), "c": ([0, 1], [5, 3], [1, 2])}


def declared_product(names, beta=1e-3):
    """``HMultiply`` of ``Signature`` inputs of the declared ``TYPES``, calibrated; returns model, layer, data."""
    inputs = [keras.Input((2,), name=f"in_{n}") for n in names]
    layer = HMultiply(beta=beta, name="m")
    model = keras.Model(inputs, layer([Signature(*TYPES[n], name=n)(x) for n, x in zip(names, inputs)]))
    rng = np.random.default_rng(0)
    x = [on_grid(*TYPES[n], size=(500, 2), rng=rng) for n in names]
    hgq.trace_minmax(model, x)
    return model, layer, x


def input_kifs(model, layer):
    return [tuple(np.asarray(a, np.float64).reshape(1, 2) for a in model.get_layer(p.name).output_kif())
            for p in layer.input_layers()]


@pytest.mark.parametrize("names, bops", [("ab", 3 * 4 + 4 * 2), ("abc", 20 + 7 * 5 + 6 * 3)])
def test_multiply_bops_by_hand(names, bops):
    """Two inputs: per element the product of the widths. Three: the chain (a·b)·c, where a·b has hls4ml's type:
    [-1, 0.75]·[-2, 1.75] in [-1.75, 2] on 2^-4, fixed<1, 2, 4> (7 bits); [0, 3.75]·[-1, 0.5] in [-3.75, 1.875] on
    2^-3, fixed<1, 2, 3> (6 bits); then 7·5 + 6·3."""
    model, layer, x = declared_product(names)
    assert layer.bops() == bops and hgq.layer_bops(model) == {"m": bops}
    costs = layer_costs(layer, input_kifs(model, layer))
    assert (costs.bops, costs.macs, costs.lut_est, costs.dsp_est) == (bops, 2 * (len(names) - 1), bops, 0)
    assert costs.latency_est_cycles == 2 * (len(names) - 1)  # multiplier and output stage per product
    layer(x, training=False)
    inference_losses = [float(v) for v in layer.losses]  # the quantizer's regularizer only
    layer([keras.ops.convert_to_tensor(v) for v in x], training=True)  # adds beta * BOPs
    extra = [float(v) for v in layer.losses if float(v) not in inference_losses]
    assert extra == pytest.approx([layer.beta * bops], rel=1e-6)


def test_three_input_product_type_by_hand():
    """(a·b)·c: a·b is typed fixed<1, 2, 4> and fixed<1, 2, 3> (above), its full ranges [-4, 3.9375]·[0, 1.9375] in
    [-7.75, 7.62890625] on 2^-8 and [-4, 3.875]·[-2, 1.5] in [-7.75, 8] on 2^-4."""
    kifs = [kif_from_kbi(tuple(np.asarray(a, np.float64)[None] for a in TYPES[n])) for n in "abc"]
    k, i, f = find_spec(keras.layers.Multiply).rule(kifs)
    assert (k.tolist(), i.tolist(), f.tolist()) == ([[1, 1]], [[3, 4]], [[8, 4]])


# ------------------------------------------------------------------------------- the plain layers' type rules


def random_kifs(rng, n=400):
    """Types of every kind: signed or not, negative integer or fractional bits, some of zero width (as hgq gives
    them, not as hls4ml stores them)."""
    return (rng.integers(0, 2, n).astype(np.float64), rng.integers(-4, 6, n).astype(np.float64),
            rng.integers(-3, 7, n).astype(np.float64))


def hls4ml_stored(kif):
    return kif_from_kbi(kbi_from_kif(kif))


def hls4ml_rule(op, kifs):
    """hls4ml's ``_produce_kif`` for ``Merge`` (``model/optimizer/passes/bit_exact.py``) on two inputs."""
    from hls4ml.utils.qinterval import QIntervalArray

    a, b = (QIntervalArray.from_kif(*hls4ml_stored(kif)) for kif in kifs)
    if op in ("maximum", "minimum"):
        return tuple(map(np.maximum, *(hls4ml_stored(kif) for kif in kifs)))
    return {"add": a + b, "subtract": a - b, "multiply": a * b}[op].to_kif()


@pytest.mark.once
@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "maximum", "minimum"])
def test_plain_type_rules_are_hls4mls(op):
    rng = np.random.default_rng(3)
    kifs = [random_kifs(rng), random_kifs(rng)]
    assert np.mean(sum(kifs[0]) <= 0) > 0.05  # zero-width elements are among them
    spec = find_spec(getattr(keras.layers, op.capitalize()))
    ours, theirs = spec.rule(kifs), hls4ml_rule(op, kifs)
    for name, got, expected in zip("kif", ours, theirs):
        np.testing.assert_array_equal(got, np.asarray(expected, np.float64), err_msg=f"{op}: {name}")


@pytest.mark.once
def test_three_input_chain_types_are_hls4mls():
    """hls4ml's merges take two inputs: the chain's second product multiplies the first one's *type*."""
    rng = np.random.default_rng(4)
    kifs = [random_kifs(rng) for _ in range(3)]
    first = hls4ml_rule("multiply", kifs[:2])
    expected = hls4ml_rule("multiply", [tuple(np.asarray(a, np.float64) for a in first), kifs[2]])
    got = find_spec(keras.layers.Multiply).rule(kifs)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, np.asarray(b, np.float64))


# ------------------------------------------------------------------------------------ chains through hls4ml


def merges_model(paq_conf=None, seed=0):
    """HQuantize -> HDense a, HDense(relu) b -> HMultiply[a, b, q], HSubtract[a, q], HMaximum[a, b, q],
    HMinimum[b, q, a] (rounding half up) -> HAdd of the four; random widths, calibrated."""
    paq = dict(paq_conf or {})
    keras.utils.set_random_seed(seed)
    inp = keras.Input((4,))
    h = HQuantize(paq_conf={**paq, "init_bw": 4}, name="q")(inp)
    a, b = HDense(4, paq_conf=paq, name="a")(h), HDense(4, activation="relu", paq_conf=paq, name="b")(h)
    merged = [HMultiply(beta=1e-5, paq_conf=paq, name="m")([a, b, h]), HSubtract(paq_conf=paq, name="s")([a, h]),
              HMaximum(paq_conf=paq, name="mx")([a, b, h]),
              HMinimum(paq_conf={**paq, "rnd_strategy": "standard_round"}, name="mn")([b, h, a])]
    model = keras.Model(inp, HAdd(paq_conf=paq, name="add")(merged))
    rng = np.random.default_rng(seed + 1)
    for v in model.trainable_weights:
        if v.path.endswith("fractional_bits"):
            v.assign(rng.integers(1, 5, size=v.shape).astype(v.dtype))
    x = np.random.default_rng(seed).normal(size=(1000, 4)).astype("float32")
    hgq.trace_minmax(model, x)
    return model, x


CHAINS = {"m": "Multiply", "mx": "Maximum", "mn": "Minimum", "add": "Add"}


HLS_CASES = [("io_parallel", "latency", True), ("io_parallel", "latency", False),
             ("io_parallel", "distributed_arithmetic", True), ("io_stream", "latency", True)]


def chains_case(io_type, aggressive):
    """``(model, proxy, x)``: ``merges_model`` (homogeneous for io_stream), its proxy and the data."""
    model, x = merges_model({"skip_dims": "all"} if io_type == "io_stream" else None)
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x


@pytest.fixture(scope="module")
def merges_projects(tmp_path_factory):
    """Every case of ``HLS_CASES`` side by side: one hls4ml project per io type and strategy."""
    projects = SideBySide(tmp_path_factory.mktemp("merges"))
    for io_type, strategy, aggressive in HLS_CASES:
        projects.add((io_type, strategy, aggressive), functools.partial(chains_case, io_type, aggressive), io_type,
                     strategy=strategy)
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_merges")  # the worker that compiles the shared projects checks every case
@pytest.mark.parametrize("io_type, strategy, aggressive", HLS_CASES)
def test_three_input_chains_are_bit_exact(io_type, strategy, aggressive, merges_projects):
    model, proxy, x, part = merges_projects((io_type, strategy, aggressive), io_type, strategy=strategy)
    for name, plain in CHAINS.items():
        assert [type(proxy.get_layer(n)).__name__ for n in (name, f"{name}_1")] == [plain, plain]
    assert type(proxy.get_layer("s")).__name__ == "Subtract"
    assert (proxy.get_layer("m_q").RND, proxy.get_layer("mn_q").RND) == ("TRN", "RND")  # auto floors
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


def test_proxy_cost_report_counts_the_same_bops():
    """The proxy's two Multiply layers (WRAP: the H-model's types) cost what HMultiply counts."""
    model, _ = merges_model()
    proxy = hgq.to_proxy_model(model, aggressive=True)
    records = {r.name: r for r in profile(proxy).records}
    assert records["m"].bops + records["m_1"].bops == model.get_layer("m").bops() > 0
    assert [records[n].bops for n in ("s", "mx", "mx_1", "mn", "mn_1")] == [0.0] * 5


# ------------------------------------------------------------------------------------------------ refusals


def test_subtract_of_three_inputs_is_refused():
    inp = keras.Input((3,))
    h = HQuantize(name="q")(inp)
    with pytest.raises(ValueError, match=r"HSubtract 's' takes exactly two inputs \[a, b\] \(it computes a - b\), "
                                         r"got 3"):
        HSubtract(name="s")([h, h, h])


def test_plain_merge_of_three_inputs_is_refused_by_convert_to_hls4ml(tmp_path):
    inp = keras.Input((3,), dtype="float64")
    proxy = keras.Model(inp, keras.layers.Maximum(name="mx", dtype="float64")([inp, inp, inp]))
    with pytest.raises(ValueError, match=r"layer 'mx' \(Maximum\): it has 3 inputs, and hls4ml's merge layers take "
                                         "two"):
        convert_to_hls4ml(proxy, tmp_path / "prj")


def test_product_wider_than_float64_is_refused():
    """fixed<28, 4> times fixed<28, 4>: 48 fractional bits, (-8)·(-8) = 64 needs 7 integer bits: 56 bits."""
    inputs = [keras.Input((2,)) for _ in range(2)]
    model = keras.Model(inputs, HMultiply(name="m")([Signature(1, 28, 4)(x) for x in inputs]))
    x = [np.random.default_rng(n).uniform(-8, 8, size=(100, 2)).astype("float32") for n in range(2)]
    hgq.trace_minmax(model, x)
    with pytest.raises(ValueError, match="layer 'm' needs a 56-bit accumulator"):
        hgq.to_proxy_model(model)


@pytest.mark.once
def test_hls4ml_minimum_rule_is_a_superset():
    """hls4ml types min(a, b) as max of the types (documented in docs/merges.md): ufixed and fixed<1, 0, 2>."""
    kifs = [(np.array([0.0]), np.array([3.0]), np.array([0.0])), (np.array([1.0]), np.array([0.0]), np.array([2.0]))]
    assert [a.item() for a in find_spec(keras.layers.Minimum).rule(kifs)] == [1, 3, 2]


# ------------------------------------------------------------------------------- HAdd: residual sums


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
@pytest.mark.xdist_group("test_merges")
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
@pytest.mark.xdist_group("test_merges")
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
