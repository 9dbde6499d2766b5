"""HEinsum, the einsum of two quantized tensors: BOPs against brute force, its types against hls4ml's interval
arithmetic, attention-like equations bit-exact through hls4ml, what hls4ml cannot build refused by name."""

import itertools

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HEinsum, HEinsumDense, HQuantize
from hgq.proxy import Einsum, convert_to_hls4ml

from bitexact import SideBySide, check_bit_exact

#: (equation, shapes of the two inputs): queries by keys and scores by values, per head; a matrix product; an
#: ellipsis; an outer product.
EQUATIONS = [
    ("abhc,adhc->ahbd", (3, 2, 4), (5, 2, 4)),
    ("ahbd,adhc->abhc", (2, 3, 5), (5, 2, 4)),
    ("abc,acd->abd", (3, 4), (4, 2)),
    ("...c,...c->...", (3, 4), (3, 4)),
    ("ab,ac->abc", (3,), (4,)),
]


def einsum_model(equation, shape_a, shape_b, seed=0):
    """Two quantized inputs of random heterogeneous widths (one through an HEinsumDense), then HEinsum."""
    keras.utils.set_random_seed(seed)
    a, b = keras.Input(shape_a), keras.Input(shape_b)
    qa = HQuantize(paq_conf={"init_bw": 3}, name="qa")(a)
    qb = HEinsumDense(f"a{'bcdefg'[:len(shape_b)]},{'bcdefg'[len(shape_b) - 1]}z->a{'bcdefg'[:len(shape_b) - 1]}z",
                      shape_b, bias_axes="z", name="qb")(HQuantize(paq_conf={"init_bw": 3}, name="qb_in")(b))
    model = keras.Model([a, b], HEinsum(equation, beta=1e-5, name="e")([qa, qb]))
    rng = np.random.default_rng(seed)
    for v in model.trainable_weights:
        if v.path.endswith("fractional_bits"):
            v.assign(rng.integers(1, 5, v.shape).astype(v.dtype))
    x = [rng.normal(size=(1000, *s)).astype("float32") for s in (shape_a, shape_b)]
    hgq.trace_minmax(model, x)
    return model, x


def brute_force_bops(equation, bits_a, bits_b):
    """Every product of np.einsum's sum, one by one: the width of its first factor times that of its second."""
    a, b, out = equation.replace("->", ",").split(",")
    size = {**dict(zip(a, bits_a.shape)), **dict(zip(b, bits_b.shape))}
    letters = sorted(size)
    return sum(bits_a[tuple(at[c] for c in a)] * bits_b[tuple(at[c] for c in b)]
               for at in (dict(zip(letters, v)) for v in itertools.product(*(range(size[c]) for c in letters))))


@pytest.mark.parametrize("equation, shape_a, shape_b", EQUATIONS[:3] + EQUATIONS[4:])
def test_bops_count_every_product(equation, shape_a, shape_b):
    model, _ = einsum_model(equation, shape_a, shape_b)
    layer = model.get_layer("e")
    bits = [np.broadcast_to(np.asarray(layer.input_bits(n)), (1, *s)) for n, s in enumerate((shape_a, shape_b))]
    assert layer.bops() == brute_force_bops(equation, *bits) > 0
    assert hgq.layer_bops(model)["e"] == layer.bops()


@pytest.mark.once
@pytest.mark.parametrize("equation, shape_a, shape_b", EQUATIONS[:3] + EQUATIONS[4:])
def test_type_rule_is_hls4mls_interval_arithmetic(equation, shape_a, shape_b):
    from hls4ml.utils.qinterval import QIntervalArray, einsum

    from hgq.quantizer.intervals import einsum_kif

    rng = np.random.default_rng(1)

    def random_kif(shape):
        k, i, f = rng.integers(0, 2, shape), rng.integers(-2, 4, shape), rng.integers(-1, 5, shape)
        dead = (k + i + f <= 0) | (rng.uniform(size=shape) < 0.1)
        return tuple(np.where(dead, 0.0, v) for v in (k, i, f))

    kifs = [random_kif((1, *s)) for s in (shape_a, shape_b)]
    expected = einsum(equation, *(QIntervalArray.from_kif(*kif) for kif in kifs)).to_kif()
    for ours, theirs in zip(einsum_kif(equation, *kifs), expected):
        assert np.array_equal(ours, np.asarray(theirs, np.float64))


def proxy_case(equation, shape_a, shape_b):
    model, x = einsum_model(equation, shape_a, shape_b)
    return model, hgq.to_proxy_model(model), x


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every equation's proxy, compiled side by side as one hls4ml project."""
    projects = SideBySide(tmp_path_factory.mktemp("test_einsum"))
    for case in EQUATIONS:
        projects.add(case, lambda case=case: proxy_case(*case))
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_einsum")  # the worker that compiles the shared project checks every equation
@pytest.mark.parametrize("equation, shape_a, shape_b", EQUATIONS)
def test_bit_exact_with_hls4ml(equation, shape_a, shape_b, projects):
    model, proxy, x, part = projects((equation, shape_a, shape_b))
    assert type(proxy.get_layer("e")) is Einsum and "..." not in proxy.get_layer("e").equation
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


def quantized_inputs_model(equation, shape_a, shape_b):
    """HEinsum of two quantized inputs, calibrated; returns its proxy and the inputs."""
    keras.utils.set_random_seed(0)
    a, b = keras.Input(shape_a), keras.Input(shape_b)
    model = keras.Model([a, b], HEinsum(equation, name="e")([HQuantize(name="qa")(a), HQuantize(name="qb")(b)]))
    x = [np.random.default_rng(0).normal(size=(64, *s)).astype("float32") for s in (shape_a, shape_b)]
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
    return proxy


def test_what_hls4ml_cannot_build_is_refused_by_name(tmp_path):
    proxy = quantized_inputs_model("abc,ad->abd", (3, 4), (5,))
    with pytest.raises(ValueError, match=r"hls4ml cannot build layer 'e' \(Einsum\): its equation 'abc,ad->abd' "
                                         r"sums c in one input only"):
        convert_to_hls4ml(proxy, tmp_path / "prj")


def test_io_stream_and_resource_are_refused_by_name(tmp_path):
    proxy = quantized_inputs_model(*EQUATIONS[2])
    with pytest.raises(ValueError, match=r"hls4ml has no io_stream implementation of layer 'e' \(Einsum\)"):
        convert_to_hls4ml(proxy, tmp_path / "prj", io_type="io_stream")
    with pytest.raises(ValueError, match=r"hls4ml has no Resource implementation of layer 'e' \(Einsum\)"):
        convert_to_hls4ml(proxy, tmp_path / "prj", strategy="resource")


def test_bad_equations_are_refused():
    with pytest.raises(ValueError, match="HEinsum 'e': equation 'abc->ab' must name two inputs and the output"):
        HEinsum("abc->ab", name="e")
    a, b = keras.Input((3, 4)), keras.Input((5, 4))
    with pytest.raises(ValueError, match="HEinsum 'e': equation 'abc,adc->bad' must keep the batch axis first"):
        HEinsum("abc,adc->bad", name="e")([HQuantize()(a), HQuantize()(b)])
