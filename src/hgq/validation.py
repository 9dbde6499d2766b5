"""The one check of the layers' integer arguments (bit widths, table sizes): a value out of its range, a bool or a
non-integer is refused with a ``ValueError`` naming the layer, the argument, the allowed range and the value, as
``"HSoftmax 'sm': exp_bits must be an integer in [1, 52], got 0"``."""

import numbers

import numpy as np


def is_integer(value):
    """Whether ``value`` is a Python or NumPy integer (a bool is not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _allowed(low, high):
    if low is not None and high is not None:
        return f"an integer in [{low}, {high}]"
    if low is not None:
        return f"an integer >= {low}"
    return "an integer" if high is None else f"an integer <= {high}"


def _refuse(owner, name, value, low, high, suffix=""):
    return ValueError(f"{owner}: {name} must be {_allowed(low, high)}{suffix}, got {value!r}")


def check_int(owner, name, value, low=None, high=None):
    """``value`` as an ``int`` when it is an integer in ``[low, high]`` (``None``: unbounded on that side), else
    ``ValueError`` naming ``owner`` (the layer: ``"HSoftmax 'sm'"``), the argument ``name``, the range and the value."""
    if not is_integer(value) or (low is not None and value < low) or (high is not None and value > high):
        raise _refuse(owner, name, value, low, high)
    return int(value)


def check_int_array(owner, name, value, low=None, high=None, allow_bool=False):
    """``check_int`` for a scalar or an array of integers: a float64 array of them (whole floats are integers here:
    saved configs hold the arrays' ``tolist()``); bools only where ``allow_bool`` (a flag such as a sign bit)."""
    flat = np.asarray(value, dtype=object).ravel()
    arr = None if any(isinstance(v, (bool, np.bool_)) for v in flat) and not allow_bool else _as_float(value)
    if (arr is None or arr.size == 0 or not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr))
            or (low is not None and np.any(arr < low)) or (high is not None and np.any(arr > high))):
        raise _refuse(owner, name, value, low, high, suffix=" (or an array of them)")
    return arr


def _as_float(value):
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
