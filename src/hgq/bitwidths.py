"""Bit-width statistics of an H-model, per layer and quantizer."""

import numpy as np
from keras import ops

from .cost import iter_hlayers


def _stats(bits):
    bits = np.asarray(ops.convert_to_numpy(bits), dtype=np.float64)
    return {"mean": float(bits.mean()), "min": float(bits.min()), "max": float(bits.max()),
            "pruned": float(np.mean(bits == 0)), "size": int(bits.size)}


def bit_width_summary(model):
    """Total bit widths of every H-layer's quantized tensors: ``{layer: {"kernel"|"output": stats}}``.

    ``stats`` holds the ``mean``, ``min`` and ``max`` width, the fraction ``pruned`` of zero-width elements
    (pruned weights, or outputs that are always zero) and the number of elements ``size``. Output widths
    come from the recorded ranges: calibrate (``trace_minmax``) first for exact numbers.
    """
    summary = {}
    for layer in iter_hlayers(model):
        entry = {"output": _stats(layer.paq.bits())}
        if hasattr(layer, "kq"):
            entry["kernel"] = _stats(layer.kq.bits(layer.quantized_kernel(False)))
        summary[layer.name] = entry
    return summary
