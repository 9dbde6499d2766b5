"""Quantizer configurations: defaults, validation, per-layer overrides.

Two kinds of quantizer exist: kernel quantizers (``kq_conf``) and output ("pre-activation")
quantizers (``paq_conf``). A layer's ``kq_conf=`` / ``paq_conf=`` dict overrides only the keys it
names; every other key comes from the current default.
"""

import copy
import numbers

import keras

from ..validation import is_integer as _is_int
from . import fixed_point as fxp

ROUNDINGS = (*fxp.ROUNDINGS, "auto")
KEYS = ("init_bw", "skip_dims", "rnd_strategy", "exact_q_value", "dtype", "bw_clip", "trainable",
        "regularizer", "minmax_record")
#: Bound of ``bw_clip``: a quantizer's steps ``2**-f`` and ``2**f`` are exact float32 normals (``fixed_point``).
MAX_FRACTIONAL_BITS = 126
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")

_FACTORY_KQ = {
    "init_bw": 2, "skip_dims": None, "rnd_strategy": "standard_round", "exact_q_value": True,
    "dtype": None, "bw_clip": (-23, 23), "trainable": True, "regularizer": keras.regularizers.L1(1e-6),
    "minmax_record": False,
}
_FACTORY_PAQ = {**_FACTORY_KQ, "skip_dims": (0,), "rnd_strategy": "auto", "minmax_record": True}

_defaults = {"kq_conf": copy.deepcopy(_FACTORY_KQ), "paq_conf": copy.deepcopy(_FACTORY_PAQ)}


def _invalid(name, key, value, allowed):
    return ValueError(f"{name}[{key!r}] = {value!r} is invalid; allowed: {allowed}")


def _validate_value(name, key, v):
    """Return the normalized value for ``key`` or raise ``ValueError`` naming it."""
    if key == "init_bw":
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or v != v or abs(v) == float("inf"):
            raise _invalid(name, key, v, "a finite number of fractional bits")
        return float(v) if not _is_int(v) else int(v)
    if key == "skip_dims":
        if v is None or v == "all":
            return v
        if isinstance(v, (list, tuple)) and all(_is_int(d) and d >= 0 for d in v):
            return tuple(sorted(set(int(d) for d in v)))
        raise _invalid(name, key, v, "None, 'all', or a tuple of non-negative axis indices")
    if key == "rnd_strategy":
        if v not in ROUNDINGS:
            raise _invalid(name, key, v, ", ".join(ROUNDINGS))
        return v
    if key in ("exact_q_value", "trainable", "minmax_record"):
        if not isinstance(v, bool):
            raise _invalid(name, key, v, "True or False")
        return v
    if key == "dtype":
        if v is not None and v not in FLOAT_DTYPES:
            raise _invalid(name, key, v, "None or one of " + ", ".join(FLOAT_DTYPES))
        return v
    if key == "bw_clip":
        if (isinstance(v, (list, tuple)) and len(v) == 2 and all(_is_int(b) for b in v)
                and -MAX_FRACTIONAL_BITS <= v[0] <= v[1] <= MAX_FRACTIONAL_BITS):
            return (int(v[0]), int(v[1]))
        raise _invalid(name, key, v, f"a pair of integers (low, high) with {-MAX_FRACTIONAL_BITS} <= low <= high <= "
                                     f"{MAX_FRACTIONAL_BITS} (the steps 2**-f that float32 holds exactly)")
    if key == "regularizer":
        if v is None or isinstance(v, keras.regularizers.Regularizer):
            return v
        if isinstance(v, numbers.Real) and not isinstance(v, bool) and v >= 0:
            return keras.regularizers.L1(float(v)) if v > 0 else None
        if isinstance(v, dict):
            return keras.regularizers.deserialize(v)
        raise _invalid(name, key, v, "None, a non-negative L1 strength, or a keras.regularizers.Regularizer")
    raise ValueError(f"{name}: unknown key {key!r}; allowed keys: {', '.join(KEYS)}")


def validate(conf, name="conf"):
    """Validate a partial config dict and return a normalized copy."""
    if conf is None:
        return {}
    if not isinstance(conf, dict):
        raise ValueError(f"{name} must be a dict of quantizer options, got {type(conf).__name__}")
    return {key: _validate_value(name, key, value) for key, value in conf.items()}


def resolve(kind, overrides=None, layer_name=None):
    """The full config for a ``kind`` (``"kq_conf"`` or ``"paq_conf"``): defaults updated by ``overrides``."""
    where = f"{kind} of layer {layer_name!r}" if layer_name else kind
    conf = copy.deepcopy(_defaults[kind])
    conf.update(validate(overrides, where))
    return conf


def serialize(conf):
    """A JSON-friendly copy of a (partial) config, for ``get_config``."""
    if conf is None:
        return None
    out = dict(conf)
    if isinstance(out.get("regularizer"), keras.regularizers.Regularizer):
        out["regularizer"] = keras.regularizers.serialize(out["regularizer"])
    return out


def get_default_kq_conf():
    """A copy of the default kernel-quantizer config."""
    return copy.deepcopy(_defaults["kq_conf"])


def get_default_paq_conf():
    """A copy of the default output (pre-activation) quantizer config."""
    return copy.deepcopy(_defaults["paq_conf"])


def set_default_kq_conf(conf):
    """Update the default kernel-quantizer config with the keys ``conf`` names (others keep their value).

    Layers created afterwards use the new defaults; pass ``None`` to restore the factory defaults.
    """
    _set_default("kq_conf", conf, _FACTORY_KQ)


def set_default_paq_conf(conf):
    """Update the default output-quantizer config with the keys ``conf`` names; ``None`` restores factory defaults."""
    _set_default("paq_conf", conf, _FACTORY_PAQ)


def _set_default(kind, conf, factory):
    if conf is None:
        _defaults[kind] = copy.deepcopy(factory)
        return
    _defaults[kind].update(validate(conf, f"default {kind}"))
