"""The C library's float32 functions (``expf``, ``tanhf``), as the compiled C simulation calls them: hls4ml fills its
lookup tables with them, and an entry one float32 step off can round to another fixed-point value."""

import ctypes
import ctypes.util

import numpy as np

#: NumPy's float32 versions, used where no C library is found.
_NUMPY = {"expf": np.exp, "tanhf": np.tanh}


def c_float_function(name):
    """The C library's float32 function ``name`` (``"expf"``, ``"tanhf"``) over arrays: float32 arguments, float32
    results (as float64 arrays); NumPy's float32 version where no C library is found."""
    library = ctypes.util.find_library("m")
    if library is None:
        numpy_fn = _NUMPY[name]
        return lambda x: numpy_fn(np.asarray(x, np.float32)).astype(np.float64)
    fn = getattr(ctypes.CDLL(library), name)
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return np.vectorize(lambda x: fn(float(x)), otypes=[np.float64])
