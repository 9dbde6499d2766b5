"""Convert a proxy model with hls4ml (the step every user of the proxy takes next)."""

import numpy as np


def convert_to_hls4ml(proxy, output_dir, io_type="io_parallel", backend="Vitis", default_precision="fixed<1,0>",
                      **kwargs):
    """Convert ``proxy`` with hls4ml and return the (not yet compiled) ``ModelGraph``.

    hls4ml's bit-exact flow derives every precision from the proxy's quantizers, so ``default_precision``
    is never used for a correct proxy; its deliberately useless default makes any precision that was not
    derived show up as wrong outputs instead of passing silently.

    Args:
        proxy: a model from ``to_proxy_model``.
        output_dir: hls4ml project folder.
        io_type: ``"io_parallel"`` or ``"io_stream"`` (stream needs homogeneous activation quantizers).
        backend: hls4ml backend name.
        default_precision: hls4ml's default precision.
        **kwargs: passed to ``hls4ml.converters.convert_from_keras_model``.
    """
    import hls4ml

    config = hls4ml.utils.config_from_keras_model(proxy, granularity="name", default_precision=default_precision)
    kwargs.setdefault("allow_da_fallback", False)
    return hls4ml.converters.convert_from_keras_model(proxy, hls_config=config, backend=backend, io_type=io_type,
                                                      output_dir=str(output_dir), **kwargs)


def hls4ml_predict(hls_model, x, output_shape):
    """Run the compiled hls4ml C simulation on float64 inputs, reshaped like the proxy's output."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return np.asarray(hls_model.predict(x), dtype=np.float64).reshape((len(x), *output_shape))
