"""Input data of a model: one check of the arrays given for its inputs (calibration, cost report, profiling)."""

import numpy as np


def input_arrays(model, data, who):
    """``data`` (an array, or a list/tuple of arrays for several inputs) as a list of NumPy arrays, one per input
    of ``model``, after checking their number, their shapes (batch axis aside) and their sample counts.

    Args:
        model: a built ``keras.Model``.
        data: the inputs.
        who: the caller's name, which starts every message (e.g. ``"trace_minmax"``).

    Raises:
        ValueError: saying which input does not match and how.
    """
    arrays = [np.asarray(a) for a in (data if isinstance(data, (list, tuple)) else [data])]
    expected = [(None, *t.shape[1:]) for t in model.inputs]
    if len(arrays) != len(expected):
        raise ValueError(f"{who}: model {model.name!r} has {len(expected)} input(s) of shape(s) "
                         f"{', '.join(map(str, expected))}, but the data holds {len(arrays)} array(s)")
    for n, (array, tensor, shape) in enumerate(zip(arrays, model.inputs, expected)):
        if array.ndim != len(shape) or any(e is not None and e != g for e, g in zip(shape[1:], array.shape[1:])):
            raise ValueError(f"{who}: data does not match input {tensor.name!r}: expected shape {shape}, got "
                             f"{array.shape} (data of shape {array.shape} does not match input {n} of shape "
                             f"{shape}; model {model.name!r} expects shape {shape} for input {n})")
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"{who}: all input arrays must hold the same number of samples, got "
                         f"{', '.join(str(len(a)) for a in arrays)}")
    return arrays
