"""Running hls4ml's compiled C simulation: ``hls4ml_predict`` (outputs shaped like the proxy's) on ``c_simulation``
(one flat array per output).

hls4ml's ``ModelGraph.predict`` calls the compiled top function once per sample, converting every argument with a
NumPy ``ndpointer`` and allocating every output anew: for a model with many inputs and outputs that Python work, not
the simulation, takes most of the time (e.g. 9.7 million argument conversions, ~40 % of the hls4ml checks of the
test suite's layer projects). ``c_simulation`` calls the same function of the same library, once per sample, on
addresses computed once for all samples.
"""

import ctypes

import numpy as np


def c_simulation(hls_model, arrays):
    """hls4ml's C simulation of ``arrays`` (one array per model input, samples first; float64 is what the simulation
    reads, other dtypes are converted): one float64 array ``(samples, size)`` per model output.

    The compiled ``<project>_double`` function of a compiled ``ModelGraph`` is called once per sample, as
    ``ModelGraph.predict`` calls it; another hls4ml model (e.g. a ``MultiModelGraph``) is run by its own ``predict``.

    Raises:
        ValueError: for a count of arrays other than the model's inputs, and naming the input whose samples are not
            as many as the first input's or not of the model's input size.
    """
    from hls4ml.model.graph import ModelGraph

    arrays = [np.ascontiguousarray(a, np.float64) for a in arrays]
    n = len(arrays[0])
    library = getattr(hls_model, "_top_function_lib", None)
    if type(hls_model) is not ModelGraph or library is None:
        y = hls_model.predict(arrays if len(arrays) > 1 else arrays[0])
        return [np.asarray(a, np.float64).reshape(n, -1) for a in (y if isinstance(y, list) else [y])]
    in_vars, out_vars = hls_model.get_input_variables(), hls_model.get_output_variables()
    if len(arrays) != len(in_vars):
        raise ValueError(f"c_simulation: the hls4ml model has {len(in_vars)} inputs, got {len(arrays)} arrays")
    inputs = []
    for i, (a, var) in enumerate(zip(arrays, in_vars)):
        if len(a) != n or a.size != n * var.size():
            raise ValueError(f"c_simulation: input {i} ({var.name}) holds {a.shape}, expected {n} samples of "
                             f"{var.size()} values each, as the first input")
        inputs.append(a.reshape(n, var.size()))
    outputs = [np.zeros((n, var.size())) for var in out_vars]
    top = library[f"{hls_model.config.get_project_name()}_double"]  # a function object of its own: argtypes
    top.restype = None
    top.argtypes = [ctypes.c_void_p] * (len(inputs) + len(outputs))
    arguments = inputs + outputs
    addresses = (np.array([a.ctypes.data for a in arguments], np.int64)
                 + np.outer(np.arange(n, dtype=np.int64), [a.strides[0] for a in arguments]))
    for sample in addresses.tolist():
        top(*sample)
    return outputs


def hls4ml_predict(hls_model, x, proxy):
    """hls4ml's C-simulation outputs on ``x`` (an array, or a list of arrays for several inputs), as float64 arrays
    shaped like the outputs of ``proxy`` (the model it was converted from): one array, or a list for several
    outputs, as ``proxy.predict`` gives them."""
    arrays = x if isinstance(x, (list, tuple)) else [x]
    y = c_simulation(hls_model, arrays)
    outputs = [a.reshape((len(a), *t.shape[1:])) for a, t in zip(y, proxy.outputs)]
    return outputs if len(outputs) > 1 else outputs[0]
