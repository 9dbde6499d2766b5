"""Every bit-width argument of every public layer is checked when the layer is created (``hgq.validation``): a value
out of its range, a bool or a non-integer is refused with a ``ValueError`` naming the layer, the argument and the
value; the ends of each range are accepted (and survive ``get_config`` / ``from_config``)."""

import inspect
import re

import keras
import numpy as np
import pytest

import hgq.layers
from hgq.layers import HGRU, HLSTM, HLayerNormalization, HMultiHeadAttention, HQuantize, HSoftmax, Signature


def mha(**softmax):
    return HMultiHeadAttention(num_heads=2, key_dim=4, softmax=softmax, name="mha")


#: (layer, its name, constructor, argument, value): one refusal each
REFUSED = [
    *(("HSoftmax", "sm", HSoftmax, arg, value) for arg, values in {
        "exp_bits": [0, -3, 53, True, 10.0, "10", None],
        "inv_bits": [0, 53, False, 2.5],
        "sum_bits": [0, 25, np.float32(8)],
        "norm_bits": [0, 25, True],
        "norm_integer_bits": [8 - 127, 127, 4.5, True],   # ufixed<8, I>: I in [8 - 126, 126]
        "input_type": [(2, 3, 4), (-1, 3, 4), (1, 127, -110), (1, -110, 127), (1, 3, 30), (0, 0, 0), (1, -4, 2),
                       (1, 3), (1, 3, 4.5), (True, 3, 4), "1,3,4"],
    }.items() for value in values),
    *(("HMultiHeadAttention", "mha", mha, arg, value) for arg, value in [
        ("exp_bits", 0), ("inv_bits", 53), ("sum_bits", 25), ("norm_bits", 0), ("norm_integer_bits", 127),
        ("input_type", (1, 3, 30)), ("exp_bits", True)]),
    *(("HLayerNormalization", "ln", HLayerNormalization, arg, value) for arg, value in [
        ("accum_fractional_bits", -1), ("accum_fractional_bits", 25), ("accum_fractional_bits", 4.5),
        ("table_bits", 0), ("table_bits", 25), ("table_bits", True), ("table_size", 1), ("table_size", 2**16 + 1),
        ("table_size", 256.0)]),
    *((layer, "rnn", lambda make=cls, **kw: make(3, **kw), arg, value)
      for layer, cls in (("HGRU", HGRU), ("HLSTM", HLSTM))
      for arg, value in [("table_bits", 1), ("table_bits", 17), ("table_bits", True), ("table_size", 3),
                         ("table_size", 2**16 + 1), ("table_size", 512.0)]),
    *(("Signature", "sig", Signature, arg, value) for arg, value in [
        ("keep_negative", 2), ("keep_negative", -1), ("keep_negative", [1, 0.5]), ("bits", -1), ("bits", [8, -1]),
        ("bits", True), ("bits", 3.5), ("bits", [6, True]), ("bits", []), ("bits", np.inf), ("int_bits", 1.5),
        ("int_bits", False), ("int_bits", "two")]),
]

#: (constructor, arguments at the ends of their ranges)
ACCEPTED = [
    (HSoftmax, dict(exp_bits=1, inv_bits=1, sum_bits=1, norm_bits=1, norm_integer_bits=1 - 126)),
    (HSoftmax, dict(exp_bits=52, inv_bits=52, sum_bits=24, norm_bits=24, norm_integer_bits=126)),
    (HSoftmax, dict(norm_bits=8, norm_integer_bits=8 - 126, input_type=(0, 0, 1))),
    (HSoftmax, dict(exp_bits=np.int64(12), input_type=[1, 126, -103])),     # width 24, any integer type
    (HSoftmax, dict(implementation="latency", input_type=(1, -126, 126))),  # width 1
    (HSoftmax, dict(implementation="latency", input_type=(0, -102, 126))),  # width 24
    (lambda **kw: HMultiHeadAttention(2, 4, softmax=kw), dict(exp_bits=1, sum_bits=24, norm_integer_bits=-102)),
    (HLayerNormalization, dict(accum_fractional_bits=0, table_bits=1, table_size=2)),
    (HLayerNormalization, dict(accum_fractional_bits=24, table_bits=24, table_size=2**16)),
    (lambda **kw: HGRU(2, **kw), dict(table_bits=2, table_size=4)),
    (lambda **kw: HLSTM(2, **kw), dict(table_bits=16, table_size=2**16)),
    (Signature, dict(keep_negative=0, bits=0, int_bits=-40)),
    (Signature, dict(keep_negative=[True, False], bits=[0, 64], int_bits=[70, -3])),
    (Signature, dict(keep_negative=1.0, bits=8.0, int_bits=3.0)),   # whole floats: saved configs hold them
]


def _case_id(case):
    layer, _, _, arg, value = case
    return f"{layer}-{arg}={value!r}"


@pytest.mark.once
@pytest.mark.parametrize("layer, name, make, arg, value", REFUSED, ids=[_case_id(c) for c in REFUSED])
def test_out_of_range_widths_are_refused_by_name(layer, name, make, arg, value):
    with pytest.raises(ValueError) as info:
        make(**{arg: value}) if make is mha else make(**{arg: value}, name=name)
    message = str(info.value)
    assert message.startswith(f"{layer} {name!r}: "), message
    assert arg in message and repr(value) in message, message
    assert re.search(r"must be (an integer|a \(k, i, f\) triple of integers)", message), message


@pytest.mark.once
@pytest.mark.parametrize("make, kwargs", ACCEPTED)
def test_range_ends_are_accepted_and_round_trip(make, kwargs):
    layer = make(**kwargs)
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config


def test_smallest_widths_build_and_compute():
    """The low ends of the ranges are real softmaxes: every table 1 bit wide still gives finite outputs."""
    inp = keras.Input((5,))
    h = HQuantize(paq_conf={"init_bw": 4})(inp)
    for kwargs in (dict(exp_bits=1, inv_bits=1, sum_bits=1, norm_bits=1, norm_integer_bits=1),
                   dict(implementation="latency", exp_bits=1, inv_bits=1, sum_bits=1, input_type=(1, 0, 0))):
        y = keras.Model(inp, HSoftmax(**kwargs)(h)).predict(np.linspace(-2, 2, 20).reshape(4, 5), verbose=0)
        assert np.all(np.isfinite(y))


def test_latency_input_whose_exponential_overflows_is_refused():
    """``exp`` of the largest latency input must fit the compute dtype's powers of two (it needs about
    ``scale * 2**i / ln 2`` integer bits): ``i = 7`` overflows float32 at ``scale = 1`` and works at ``scale = 1/2``."""
    inp = HQuantize()(keras.Input((6,)))
    with pytest.raises(ValueError, match=r"HSoftmax 'sm': input_type=\(1, 7, 0\) with scale=1.0: the exponential of "
                                         r"the largest input needs types beyond float32's powers of two"):
        HSoftmax(implementation="latency", input_type=(1, 7, 0), name="sm")(inp)
    HSoftmax(implementation="latency", input_type=(1, 7, 0), scale=0.5)(inp)


def _width_arguments(cls):
    """A layer's constructor arguments that are bit widths or fixed-point types (by name)."""
    names = inspect.signature(cls.__init__).parameters
    return {n for n in names if "bits" in n or n.endswith("_type") or n in ("keep_negative", "softmax")}


@pytest.mark.once
def test_every_width_argument_of_every_public_layer_has_a_refusal_case():
    covered = {(layer, "softmax" if layer == "HMultiHeadAttention" else arg) for layer, _, _, arg, _ in REFUSED}
    for name in hgq.layers.__all__:
        cls = getattr(hgq.layers, name)
        if inspect.isclass(cls):
            assert {(name, arg) for arg in _width_arguments(cls)} <= covered, name
