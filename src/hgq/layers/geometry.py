"""Geometry of a window sliding along one axis (convolutions and poolings), as Keras/TensorFlow pad it."""


def output_size_and_padding(n, window, stride, padding):
    """``(outputs, padding before the first input)`` of a window of ``window`` inputs moved by ``stride`` over
    ``n`` inputs; ``padding`` is ``"valid"`` or ``"same"`` (the extra padding goes after, as in TensorFlow)."""
    if padding == "same":
        out = -(-n // stride)
        return out, max((out - 1) * stride + window - n, 0) // 2
    return max((n - window) // stride + 1, 0), 0
