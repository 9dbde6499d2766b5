"""hls4ml's Keras-3 handler of the proxy's ``Softmax``: hls4ml's bit-exact ``Softmax`` (``_bit_exact``, as for HGQ2's
``QSoftmax``) with the proxy's table types and sizes, so that the C simulation computes the proxy's tables.
Registered by being defined (``hgq.families.hls4ml_handlers``); ``hgq.proxy`` hands the registry to hls4ml."""

import math

import numpy as np

from ..hls4ml_handlers import hls4ml_handler
from .proxy import Softmax


@hls4ml_handler(Softmax)
def softmax_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a proxy ``Softmax``."""
    shape = tuple(in_tensors[0].shape)
    axis = layer.axis % len(shape)
    n_outer, n_inner = math.prod(shape[1:axis]), math.prod(shape[axis + 1:])
    t = layer.tables
    config = {"class_name": "Softmax", "activation": "softmax", "axis": -1 if axis == len(shape) - 1 else axis,
              "n_in": math.prod(shape[1:]), "n_outer": n_outer, "n_inner": n_inner,
              "implementation": t.implementation, "exp_scale": float(np.float32(t.exp_scale)),
              "parallelization_factor": n_outer * n_inner,
              "exp_table_t": t.exp_t.to_hls4ml(), "inv_table_t": t.inv_t.to_hls4ml(),
              "inv_inp_t": t.inv_inp_t.to_hls4ml(), "inv_table_size": 2**t.inv_inp_t.width, "_bit_exact": True,
              "exp_table_size": 2**t.norm_t.width if t.implementation == "stable" else None}
    if t.implementation == "stable":
        config["inp_norm_t"] = t.norm_t.to_hls4ml()
    return config
