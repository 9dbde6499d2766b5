import keras
import pytest

import hgq
from hgq.layers import HDense, HQuantize

DOCUMENTED_KQ = {"init_bw": 2, "skip_dims": None, "rnd_strategy": "standard_round", "exact_q_value": True,
                 "dtype": None, "bw_clip": (-23, 23), "trainable": True, "minmax_record": False}
DOCUMENTED_PAQ = {**DOCUMENTED_KQ, "skip_dims": (0,), "rnd_strategy": "auto", "minmax_record": True}


@pytest.mark.parametrize("getter, documented", [(hgq.get_default_kq_conf, DOCUMENTED_KQ),
                                                (hgq.get_default_paq_conf, DOCUMENTED_PAQ)])
def test_documented_defaults(getter, documented):
    conf = getter()
    regularizer = conf.pop("regularizer")
    assert conf == documented
    assert isinstance(regularizer, keras.regularizers.L1)
    assert float(regularizer.l1) == pytest.approx(1e-6)


def test_layer_conf_overrides_only_named_keys():
    layer = HDense(4, kq_conf={"init_bw": 5}, paq_conf={"rnd_strategy": "floor"})
    assert layer.kq_conf["init_bw"] == 5
    assert layer.paq_conf["rnd_strategy"] == "floor"
    for key in ("skip_dims", "bw_clip", "minmax_record"):
        assert layer.kq_conf[key] == DOCUMENTED_KQ[key]
        assert layer.paq_conf[key] == DOCUMENTED_PAQ[key]


def test_set_default_applies_to_new_layers_and_none_restores():
    hgq.set_default_kq_conf({"init_bw": 7})
    hgq.set_default_paq_conf({"bw_clip": (-4, 9)})
    layer = HDense(3)
    assert layer.kq_conf["init_bw"] == 7 and layer.paq_conf["bw_clip"] == (-4, 9)
    assert hgq.get_default_kq_conf()["rnd_strategy"] == "standard_round"  # untouched key kept
    hgq.set_default_kq_conf(None)
    assert HDense(3).kq_conf["init_bw"] == 2


def test_get_default_returns_a_copy():
    hgq.get_default_paq_conf()["init_bw"] = 99
    assert hgq.get_default_paq_conf()["init_bw"] == 2


def test_unknown_key_names_key_layer_and_allowed_keys():
    with pytest.raises(ValueError, match=r"paq_conf of layer 'q'.*unknown key 'init_bits'.*init_bw"):
        HQuantize(name="q", paq_conf={"init_bits": 3})
    with pytest.raises(ValueError, match="unknown key 'foo'"):
        hgq.set_default_kq_conf({"foo": 1})


@pytest.mark.parametrize("key, value, allowed", [
    ("rnd_strategy", "nearest", "standard_round, stochastic_round"),
    ("init_bw", "two", "finite number"),
    ("init_bw", float("nan"), "finite number"),
    ("skip_dims", (0, -1), "non-negative axis"),
    ("skip_dims", "some", "'all'"),
    ("exact_q_value", 1, "True or False"),
    ("trainable", "yes", "True or False"),
    ("minmax_record", None, "True or False"),
    ("dtype", "int8", "float32"),
    ("bw_clip", (3, -3), "low <= high"),
    ("bw_clip", (-4, 127), "<= 126"),
    ("bw_clip", (0.5, 3), "pair of integers"),
    ("regularizer", -1.0, "non-negative"),
])
def test_invalid_value_names_key_value_and_allowed(key, value, allowed):
    with pytest.raises(ValueError, match=rf"kq_conf of layer 'd'\['{key}'\] = .* is invalid; allowed: .*{allowed}"):
        HDense(2, name="d", kq_conf={key: value})


def test_conf_must_be_a_dict():
    with pytest.raises(ValueError, match="must be a dict"):
        HDense(2, kq_conf=[("init_bw", 3)])


def test_regularizer_shorthands():
    assert HDense(2, kq_conf={"regularizer": 0.0}).kq_conf["regularizer"] is None
    assert float(HDense(2, kq_conf={"regularizer": 1e-3}).kq_conf["regularizer"].l1) == pytest.approx(1e-3)
    assert isinstance(HDense(2, kq_conf={"regularizer": keras.regularizers.L2(0.1)}).kq_conf["regularizer"],
                      keras.regularizers.L2)
