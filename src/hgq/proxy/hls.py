"""Convert a proxy model with hls4ml (the step every user of the proxy takes next): strategies and reuse factors;
``quiet`` keeps hls4ml's and the compiler's messages off the terminal."""

import contextlib
import io
import os
import sys
import tempfile

import numpy as np

#: hls4ml strategies we export to (lower-case names; hls4ml also reads them so).
STRATEGIES = ("latency", "resource", "distributed_arithmetic")
IO_TYPES = ("io_parallel", "io_stream")
BACKENDS = ("Vitis", "Vivado")
#: Keras classes whose hls4ml layers take a reuse factor (the multiplying layers).
_KERNEL_LAYERS = ("Dense", "Conv1D", "Conv2D")


def _mult_size(layer):
    """``(n_in, n_out)`` of one kernel multiplication of a Dense/Conv layer, as hls4ml counts them."""
    kernel = layer.kernel.shape
    return int(np.prod(kernel[:-1])), int(kernel[-1])


def valid_reuse_factors(n_in, n_out):
    """The reuse factors hls4ml's Resource strategy accepts for an ``n_in x n_out`` multiplication (its own rule)."""
    def ok(rf):
        limit = -(-(n_in * n_out) // min(n_in, rf))
        return ((limit % n_out == 0) or rf >= n_in) and (rf % n_in == 0 or rf < n_in) and (n_in * n_out) % rf == 0
    return [rf for rf in range(1, n_in * n_out + 1) if ok(rf)]


def check_strategy(proxy, strategy="latency", reuse_factor=1, io_type="io_parallel", backend="Vitis"):
    """Raise ``ValueError`` saying what to change when hls4ml cannot build ``proxy`` this way; return the
    normalized strategy name."""
    name = str(strategy).lower().replace("-", "_")
    name = {"da": "distributed_arithmetic"}.get(name, name)
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if io_type not in IO_TYPES:
        raise ValueError(f"unknown io_type {io_type!r}; choose one of {', '.join(IO_TYPES)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not isinstance(reuse_factor, int) or reuse_factor < 1:
        raise ValueError(f"reuse_factor must be a positive integer, got {reuse_factor!r}")
    if name != "resource" and reuse_factor != 1:
        raise ValueError(f"a reuse factor of {reuse_factor} needs strategy 'resource' ({name} runs every "
                         "multiplication in parallel: reuse factor 1)")
    if name == "distributed_arithmetic":
        if io_type != "io_parallel":
            raise ValueError("strategy distributed_arithmetic needs io_type io_parallel")
        try:
            import da4ml  # noqa: F401
        except ImportError:
            raise ValueError("strategy distributed_arithmetic needs da4ml: pip install 'da4ml>=0.5.2,<0.6' "
                             "(or the 'da' extra of hgq-keras)") from None
    for layer in proxy.layers:
        if name == "resource" and type(layer).__name__ in _KERNEL_LAYERS:
            valid = valid_reuse_factors(*_mult_size(layer))
            if reuse_factor not in valid:
                raise ValueError(f"reuse factor {reuse_factor} does not fit layer {layer.name!r} "
                                 f"({'x'.join(map(str, _mult_size(layer)))} multiplication); hls4ml accepts "
                                 f"{', '.join(map(str, valid[:20]))}{' ...' if len(valid) > 20 else ''}")
    return name


def hls4ml_config(proxy, strategy="latency", reuse_factor=1, default_precision="fixed<1,0>"):
    """hls4ml's per-layer config of ``proxy`` with the strategy and reuse factor set for the whole model."""
    import hls4ml

    config = hls4ml.utils.config_from_keras_model(proxy, granularity="name", default_precision=default_precision)
    config["Model"]["Strategy"] = strategy
    config["Model"]["ReuseFactor"] = reuse_factor
    for layer in config.get("LayerName", {}).values():  # the model-wide values apply to every layer
        layer.pop("Strategy", None)
        layer.pop("ReuseFactor", None)
    return config


def convert_to_hls4ml(proxy, output_dir, io_type="io_parallel", backend="Vitis", strategy="latency",
                      reuse_factor=1, default_precision="fixed<1,0>", **kwargs):
    """Convert ``proxy`` with hls4ml and return the (not yet compiled) ``ModelGraph``.

    hls4ml's bit-exact flow derives every precision from the proxy's quantizers, so ``default_precision``
    is never used for a correct proxy; its deliberately useless default makes any precision that was not
    derived show up as wrong outputs instead of passing silently.

    Args:
        proxy: a model from ``to_proxy_model``.
        output_dir: hls4ml project folder.
        io_type: ``"io_parallel"`` or ``"io_stream"`` (stream needs homogeneous activation quantizers).
        backend: ``"Vitis"`` or ``"Vivado"``.
        strategy: ``"latency"``, ``"resource"`` (with ``reuse_factor``) or ``"distributed_arithmetic"``
            (needs ``da4ml>=0.5.2,<0.6``).
        reuse_factor: multiplications per multiplier (``resource`` only); must be one hls4ml accepts for every
            Dense/Conv layer, else ``ValueError`` lists the valid ones.
        default_precision: hls4ml's default precision.
        **kwargs: passed to ``hls4ml.converters.convert_from_keras_model``.
    """
    import hls4ml

    strategy = check_strategy(proxy, strategy, reuse_factor, io_type, backend)
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise ValueError(f"the output directory {output_dir} is a file")
    config = hls4ml_config(proxy, strategy, reuse_factor, default_precision)
    kwargs.setdefault("allow_da_fallback", False)
    try:
        return hls4ml.converters.convert_from_keras_model(proxy, hls_config=config, backend=backend, io_type=io_type,
                                                          output_dir=str(output_dir), **kwargs)
    except NotImplementedError as error:
        per_element = _per_element_quantizers(proxy)
        if io_type != "io_stream" or not per_element:
            raise
        raise ValueError(f"io_stream needs one type per activation quantizer, but {', '.join(per_element)} keep a type "
                         "per element (heterogeneous quantizers, or one-type quantizers that hls4ml would narrow with a "
                         "loss, see docs/proxy.md); use io_type='io_parallel'") from error


def _per_element_quantizers(proxy):
    """Names of the proxy's quantizers that hls4ml reads element by element (not ``fusible``)."""
    from .. import graph
    from .fixed_point_quantizer import FixedPointQuantizer

    return [layer.name for _, layer in graph.flat_layers(proxy)
            if isinstance(layer, FixedPointQuantizer) and not layer.fusible]


def hls4ml_predict(hls_model, x, output_shape):
    """Run the compiled hls4ml C simulation on float64 inputs, reshaped like the proxy's output."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return np.asarray(hls_model.predict(x), dtype=np.float64).reshape((len(x), *output_shape))


@contextlib.contextmanager
def quiet(enabled=True):
    """Hide everything written to stdout and stderr, by Python and by C++ (file-descriptor level), inside the block.

    hls4ml prints its progress and warnings, g++ and TensorFlow write to the descriptors directly. What was hidden
    is discarded; with ``enabled=False`` this does nothing.
    """
    if not enabled:
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
