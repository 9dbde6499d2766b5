"""Convert a proxy model with hls4ml (the step every user of the proxy takes next): strategies and reuse factors,
the proxy's own float64 prediction; ``quiet`` keeps hls4ml's and the compiler's messages off the terminal."""

import contextlib
import io
import os
import sys
import tempfile

import numpy as np

from .. import graph
from ..cost.kernel import kernel_views
from ..outputs import OutputFolder
from ..proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ..families.registry import Hls4mlRule, spec_of
from .hls_handlers import register_hls4ml_handlers

#: hls4ml strategies we export to (lower-case names; hls4ml also reads them so).
STRATEGIES = ("latency", "resource", "distributed_arithmetic")
IO_TYPES = ("io_parallel", "io_stream")
BACKENDS = ("Vitis", "Vivado")
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
    _check_headers(proxy)
    for _, layer in graph.flat_layers(proxy):
        spec = spec_of(layer, "convert_to_hls4ml", Hls4mlRule)
        refusal = spec.hls4ml_refusal(layer)
        if refusal is not None:
            raise ValueError(f"hls4ml cannot build layer {layer.name!r} ({type(layer).__name__}): {refusal}")
        if io_type == "io_stream" and spec.io_stream is not True:
            why = spec.io_stream or f"hls4ml has no io_stream implementation of layer {layer.name!r}"
            raise ValueError(f"{why} ({type(layer).__name__}); use io_type='io_parallel'")
        if name == "resource" and not spec.resource:
            raise ValueError(f"hls4ml has no Resource implementation of layer {layer.name!r} "
                             f"({type(layer).__name__}); use strategy 'latency' or 'distributed_arithmetic'")
        for view in kernel_views(layer) if name == "resource" else ():
            valid = valid_reuse_factors(*view.multiplications())
            if reuse_factor not in valid:
                raise ValueError(f"reuse factor {reuse_factor} does not fit layer {layer.name!r} "
                                 f"({'x'.join(map(str, view.multiplications()))} multiplication); hls4ml accepts "
                                 f"{', '.join(map(str, valid[:20]))}{' ...' if len(valid) > 20 else ''}")
    return name


def _check_headers(proxy):
    """Refuse a proxy whose layers need two hls4ml headers that share an include guard (the second one would be
    skipped and g++ fail), naming a layer of each."""
    by_guard = {}
    for _, layer in graph.flat_layers(proxy):
        header = spec_of(layer, "convert_to_hls4ml", Hls4mlRule).hls4ml_header(layer)
        if header is not None:
            by_guard.setdefault(header[0], {}).setdefault(header[1], layer.name)
    for guard, headers in by_guard.items():
        if len(headers) > 1:
            (first, a), (second, b) = list(headers.items())[:2]
            raise ValueError(f"hls4ml cannot build layers {a!r} and {b!r} in one model: their C++ headers {first} and "
                             f"{second} share the include guard {guard}; use 1-D or 2-D depthwise and separable "
                             "convolutions in one model, not both")


def hls4ml_config(proxy, strategy="latency", reuse_factor=1, default_precision="fixed<1,0>", verbose=False):
    """hls4ml's per-layer config of ``proxy`` with the strategy and reuse factor set for the whole model (hls4ml's
    progress lines shown only when ``verbose``)."""
    import hls4ml

    register_hls4ml_handlers()
    with _progress_lines(verbose):
        config = hls4ml.utils.config_from_keras_model(proxy, granularity="name", default_precision=default_precision)
    config["Model"]["Strategy"] = strategy
    config["Model"]["ReuseFactor"] = reuse_factor
    for layer in config.get("LayerName", {}).values():  # the model-wide values apply to every layer
        layer.pop("Strategy", None)
        layer.pop("ReuseFactor", None)
    return config


def _progress_lines(shown):
    """Keep hls4ml's progress lines (printed to stdout) off the terminal unless ``shown``; its warnings (Python
    warnings, on stderr) are never hidden."""
    return contextlib.nullcontext() if shown else contextlib.redirect_stdout(io.StringIO())


def convert_to_hls4ml(proxy, output_dir, io_type="io_parallel", backend="Vitis", strategy="latency",
                      reuse_factor=1, default_precision="fixed<1,0>", verbose=False, **kwargs):
    """Convert ``proxy`` with hls4ml and return the (not yet compiled) ``ModelGraph``.

    hls4ml's bit-exact flow derives every precision from the proxy's quantizers, so ``default_precision``
    is never used for a correct proxy; its deliberately useless default makes any precision that was not
    derived show up as wrong outputs instead of passing silently.

    Args:
        proxy: a model from ``to_proxy_model``.
        output_dir: hls4ml project folder: new, empty, or an hls4ml project that hgq wrote before (hls4ml writes
            over its own files there); a folder holding other files is refused (``hgq.outputs.OutputFolderError``).
        io_type: ``"io_parallel"`` or ``"io_stream"`` (stream needs homogeneous activation quantizers).
        backend: ``"Vitis"`` or ``"Vivado"``.
        strategy: ``"latency"``, ``"resource"`` (with ``reuse_factor``) or ``"distributed_arithmetic"``
            (needs ``da4ml>=0.5.2,<0.6``).
        reuse_factor: multiplications per multiplier (``resource`` only); must be one hls4ml accepts for every
            Dense/Conv layer, else ``ValueError`` lists the valid ones.
        default_precision: hls4ml's default precision.
        verbose: show hls4ml's progress lines (its warnings are always shown).
        **kwargs: passed to ``hls4ml.converters.convert_from_keras_model``.
    """
    import hls4ml

    strategy = check_strategy(proxy, strategy, reuse_factor, io_type, backend)
    OutputFolder(output_dir, "convert_to_hls4ml").own_all()
    config = hls4ml_config(proxy, strategy, reuse_factor, default_precision, verbose)
    kwargs.setdefault("allow_da_fallback", False)
    try:
        with _progress_lines(verbose):
            return hls4ml.converters.convert_from_keras_model(proxy, hls_config=config, backend=backend,
                                                              io_type=io_type, output_dir=str(output_dir), **kwargs)
    except NotImplementedError as error:
        per_element = _per_element_quantizers(proxy)
        if io_type != "io_stream" or not per_element:
            raise
        raise ValueError(f"io_stream needs one type per activation quantizer, but {', '.join(per_element)} keep a type "
                         "per element (heterogeneous quantizers, or one-type quantizers that hls4ml would narrow with a "
                         "loss, see docs/proxy.md); use io_type='io_parallel'") from error


def _per_element_quantizers(proxy):
    """Names of the proxy's quantizers that hls4ml reads element by element (not ``fusible``)."""
    return [layer.name for _, layer in graph.flat_layers(proxy)
            if isinstance(layer, FixedPointQuantizer) and not layer.fusible]


def proxy_predict(proxy, x, batch_size=1024):
    """The outputs of ``proxy`` on ``x`` (an array, or a list of arrays for several inputs), computed in float64: one
    array, or a list for several outputs, as ``proxy.predict`` gives them. Keras' ``predict`` casts float64 inputs
    to float32 (Keras 3.15), which can move an input across a quantizer's rounding boundary; this calls the model on
    batches instead, so that the proxy sees exactly what hls4ml's C simulation sees. Every batch has the same size
    (the last one is filled up with its own samples, whose outputs are dropped): one compiled program on JAX."""
    import keras

    from ..backend import inference
    from ..data import same_size_batches

    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (x if isinstance(x, (list, tuple)) else [x])]
    run = inference(proxy, "proxy_predict")
    batches = []
    for _, batch in same_size_batches(arrays, batch_size):
        y = run(keras.tree.pack_sequence_as(proxy.input, batch))  # the model's input structure
        batches.append([np.asarray(keras.ops.convert_to_numpy(t), np.float64) for t in keras.tree.flatten(y)])
    outputs = [np.concatenate(parts)[:len(arrays[0])] for parts in zip(*batches)]
    return outputs if len(outputs) > 1 else outputs[0]


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
