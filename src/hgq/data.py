"""Input data of a model: one check of the arrays given for its inputs (calibration, cost report, profiling), and
their batches of one size."""

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


def check_values(model, arrays, who):
    """Raise ``ValueError`` naming the input when an array of ``arrays`` (one per input of ``model``) is empty, not
    numeric, or holds NaN or infinite values (and how many)."""
    for array, tensor in zip(arrays, model.inputs):
        if array.size == 0:
            raise ValueError(f"{who}: the data for input {tensor.name!r} is empty (shape {array.shape})")
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise ValueError(f"{who}: the data for input {tensor.name!r} is not numeric (dtype {array.dtype})")
        bad = array.size - int(np.count_nonzero(np.isfinite(array)))
        if bad:
            n_nan = int(np.count_nonzero(np.isnan(array)))
            raise ValueError(f"{who}: the data for input {tensor.name!r} holds {bad} non-finite value(s) "
                             f"({n_nan} NaN, {bad - n_nan} infinite) out of {array.size}; remove or replace them")
    return arrays


def same_size_batches(arrays, batch_size):
    """``(end, batch)`` for each batch of ``arrays`` (one per input), every batch of the same size: ``batch_size``,
    or for fewer samples the power of two at or above their count (so that 1,000 and 3,000 samples share one
    compiled program on JAX, at most twice the work for a few samples); the last batch is filled up with the first
    samples. ``end`` is the number of real samples up to and including the batch."""
    n = len(arrays[0])
    size = min(int(batch_size), 1 << (n - 1).bit_length())
    for start in range(0, n, size):
        yield min(start + size, n), [np.take(a, np.arange(start, start + size), axis=0, mode="wrap") for a in arrays]
