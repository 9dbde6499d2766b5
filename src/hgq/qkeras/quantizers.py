"""QKeras quantizers: their exact inference semantics in NumPy (for weights) and their fixed-point type
(for activations, as ``FixedPointQuantizer`` parameters).

``parse_quantizer`` reads a serialized quantizer config; each class takes its arguments and raises ``ValueError``
(naming ``where``) for what cannot be reproduced exactly. QKeras computes in float32; every step below is exact
(scaling by powers of two, rounding) except the ``auto_po2`` scale search, which is therefore done in float32.
"""

import ast

import numpy as np

EPSILON = np.float32(1e-7)  # keras.backend.epsilon()


def _po2(x):
    """QKeras's power-of-two rounding of a positive scale: ``2 ** round(log(x + eps) / log(2))`` in float32."""
    return np.float32(2.0) ** np.round(np.log(x + EPSILON) / np.float32(np.log(2.0)))


def _least_squares_po2(x, q, axes):
    qx = np.mean(x * q, axis=axes, keepdims=True, dtype=np.float32)
    qq = np.mean(q * q, axis=axes, keepdims=True, dtype=np.float32)
    return _po2(qx / (qq + EPSILON))


class QuantizedBits:
    """``quantized_bits``: ``ap_fixed<bits, integer+1, RND_CONV, SAT|SAT_SYM>`` (``ap_ufixed<bits, integer>``
    when ``keep_negative`` is false); with ``alpha='auto_po2'`` a per-output-channel power-of-two scale."""

    ARGS = ("bits", "integer", "symmetric", "keep_negative", "alpha", "use_stochastic_rounding")

    def __init__(self, where, bits=8, integer=0, symmetric=0, keep_negative=True, alpha=None, **_):
        if alpha not in (None, 1, 1.0, "auto_po2"):
            raise ValueError(f"{where}: quantized_bits(alpha={alpha!r}) is not a power-of-two scale; only alpha=1 "
                             "and alpha='auto_po2' map to fixed-point numbers")
        self.where, self.alpha = where, alpha
        self.bits, self.integer, self.keep_negative = int(bits), int(integer), int(bool(keep_negative))
        self.symmetric = int(bool(symmetric) or alpha == "auto_po2")
        if self.bits - self.keep_negative < 1:
            raise ValueError(f"{where}: quantized_bits(bits={bits}, keep_negative={keep_negative}) has no "
                             "magnitude bit (QKeras turns it into a sign function); not supported")

    def quantize(self, w):
        """QKeras's quantized values of the float weights ``w`` (exact, as float64)."""
        w = np.asarray(w, dtype=np.float32)
        if self.alpha == "auto_po2":
            return self._quantize_auto_po2(w)
        step = 2.0 ** (self.integer - self.bits + self.keep_negative)
        m = 2.0 ** (self.bits - self.keep_negative)
        low = self.keep_negative * (-m + self.symmetric)
        return np.clip(np.round(w.astype(np.float64) / step), low, m - 1) * step

    def _quantize_auto_po2(self, w):
        """One power-of-two scale per output channel (last axis), searched in float32 exactly as QKeras 0.9.0."""
        if w.ndim < 2:
            raise ValueError(f"{self.where}: quantized_bits(alpha='auto_po2') on a 1-D tensor (bias) is not supported")
        m_i = np.float32(2.0 ** self.integer)
        x, axes = w / m_i, tuple(range(w.ndim - 1))
        levels = np.float32(2 ** self.bits - 2)  # symmetric: 2 * (2**(bits-1) - 1) levels
        scale = _po2(np.max(np.abs(x), axis=axes, keepdims=True) * np.float32(2) / levels)
        for _ in range(5):
            v = np.floor(np.abs(x) / scale + np.float32(0.5))
            z = np.sign(x) * np.where(v < levels / 2, v, levels / 2)
            scale = _least_squares_po2(x, z, axes)
        return (scale.astype(np.float64) * z) * float(m_i)

    def fixed_type(self):
        """``(keep_negative, bits, integers including sign, SAT mode)`` of the activation quantizer."""
        if self.alpha == "auto_po2":
            raise ValueError(f"{self.where}: quantized_bits(alpha='auto_po2') on activations is a data-dependent "
                             "scale, not a fixed-point type")
        return self.keep_negative, self.bits, self.integer + self.keep_negative, \
            "SAT_SYM" if self.symmetric and self.keep_negative else "SAT"


class QuantizedRelu:
    """``quantized_relu(bits, integer)``: ReLU then ``ap_ufixed<bits, integer, RND_CONV, SAT>``."""

    ARGS = ("bits", "integer", "use_sigmoid", "negative_slope", "use_stochastic_rounding", "relu_upper_bound")

    def __init__(self, where, bits=8, integer=0, use_sigmoid=0, negative_slope=0.0, relu_upper_bound=None, **_):
        if use_sigmoid or negative_slope or relu_upper_bound is not None:
            raise ValueError(f"{where}: quantized_relu with use_sigmoid, negative_slope or relu_upper_bound is not "
                             "supported")
        self.where, self.bits, self.integer = where, int(bits), int(integer)

    def quantize(self, w):
        """QKeras's quantized values of ``w``."""
        step = 2.0 ** (self.integer - self.bits)
        return np.clip(np.round(np.asarray(w, np.float32).astype(np.float64) / step), 0, 2.0 ** self.bits - 1) * step

    def fixed_type(self):
        """``(keep_negative, bits, integers, SAT mode)`` of the quantizer that follows the ReLU."""
        return 0, self.bits, self.integer, "SAT"


class Binary:
    """``binary(alpha=1)``: ``-1`` below zero, ``+1`` otherwise (``0``/``1`` with ``use_01``). Weights only."""

    ARGS = ("use_01", "alpha", "use_stochastic_rounding")

    def __init__(self, where, use_01=False, alpha=None, **_):
        if alpha not in (None, 1, 1.0):
            raise ValueError(f"{where}: binary(alpha={alpha!r}) is not supported; only alpha=1")
        self.where, self.use_01 = where, bool(use_01)

    def quantize(self, w):
        """``±1`` (or ``0``/``1``) per weight."""
        sign = np.where(np.asarray(w, np.float32) < 0, -1.0, 1.0)
        return (sign + 1.0) / 2.0 if self.use_01 else sign

    def fixed_type(self):
        raise ValueError(f"{self.where}: binary as an activation quantizer is not supported (weights only)")


class Ternary:
    """``ternary(alpha=1, threshold=t)``: ``sign(x)`` where ``|x| >= t`` (default 0.33), else 0. Weights only."""

    ARGS = ("alpha", "threshold", "use_stochastic_rounding")

    def __init__(self, where, alpha=None, threshold=None, **_):
        if alpha not in (None, 1, 1.0):
            raise ValueError(f"{where}: ternary(alpha={alpha!r}) is not supported; only alpha=1")
        self.where = where
        self.threshold = np.float32(0.33 if threshold is None else threshold)

    def quantize(self, w):
        """``-1``, ``0`` or ``+1`` per weight."""
        w = np.asarray(w, np.float32)
        return (np.abs(w) >= self.threshold) * np.sign(w).astype(np.float64)

    def fixed_type(self):
        raise ValueError(f"{self.where}: ternary as an activation quantizer is not supported (weights only)")


QUANTIZERS = {"quantized_bits": QuantizedBits, "quantized_relu": QuantizedRelu, "binary": Binary,
              "ternary": Ternary}


def _from_string(text, where):
    """``{"class_name", "config"}`` of a quantizer written as QKeras's string form, e.g. ``"quantized_relu(6, 2)"``."""
    try:
        call = ast.parse(text.strip(), mode="eval").body
        if isinstance(call, ast.Name):
            return {"class_name": call.id, "config": {}}
        name = call.func.id
        if name not in QUANTIZERS:
            return {"class_name": name, "config": {}}
        config = dict(zip(QUANTIZERS[name].ARGS, (ast.literal_eval(a) for a in call.args)))
        config.update({k.arg: ast.literal_eval(k.value) for k in call.keywords})
    except (SyntaxError, ValueError, AttributeError) as error:
        raise ValueError(f"{where}: cannot read the quantizer {text!r}") from error
    return {"class_name": name, "config": config}


def parse_quantizer(config, where):
    """The quantizer object for a serialized QKeras quantizer: a ``{"class_name", "config"}`` dict or QKeras's
    string form (``"quantized_bits(8, 3, alpha=1)"``); ``None`` for none."""
    if config is None:
        return None
    if isinstance(config, str):
        config = _from_string(config, where)
    if not isinstance(config, dict) or config.get("class_name") not in QUANTIZERS:
        name = config.get("class_name") if isinstance(config, dict) else config
        raise ValueError(f"{where}: quantizer {name!r} is not supported; supported: {', '.join(QUANTIZERS)}")
    args = dict(config.get("config", {}))
    if args.get("use_stochastic_rounding"):
        raise ValueError(f"{where}: {config['class_name']}(use_stochastic_rounding=True) is random; not supported")
    return QUANTIZERS[config["class_name"]](where, **args)
