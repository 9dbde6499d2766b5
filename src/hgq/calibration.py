"""Calibration: record the value range of every quantized tensor, which fixes integer bits and signs."""

import keras
import numpy as np

from .backend import inference
from .cost import iter_hlayers, total_bops
from .data import check_values, input_arrays, same_size_batches
from .families.quantize.signature import Signature
from .families.registry import require_specs
from .graph import flat_layers


def all_quantizers(model):
    """Every quantizer of every H-layer of ``model``."""
    return [q for layer in iter_hlayers(model) for q in layer.quantizers()]


def reset_minmax(model):
    """Forget every recorded range of ``model``."""
    for q in all_quantizers(model):
        q.reset_minmax()


def _run(model, arrays, batch_size, purpose, layers, attribute, verbose=False, outputs=False):
    """Run ``arrays`` through ``model`` in inference mode with ``attribute`` set to True on each of ``layers`` (then
    False again); with ``outputs``, the model's outputs as NumPy arrays (one per output), in the order of the
    samples."""
    # plain bools, nothing for Keras to track: object.__setattr__ skips Layer.__setattr__'s tracking, which cost
    # fit_pareto about 1 ms an epoch on the digits MLP
    for layer in layers:
        object.__setattr__(layer, attribute, True)
    batches = []
    try:
        run = inference(model, purpose)
        # the samples that fill up the last batch were already seen: they leave the recorded ranges as they are
        for end, batch in same_size_batches(arrays, batch_size):
            y = run(batch if len(batch) > 1 else batch[0])
            if outputs:
                batches.append([np.asarray(keras.ops.convert_to_numpy(t)) for t in keras.tree.flatten(y)])
            if verbose:
                print(f"\rtrace_minmax: {end}/{len(arrays[0])} samples", end="", flush=True)
    finally:
        for layer in layers:
            object.__setattr__(layer, attribute, False)
    return [np.concatenate(parts)[:len(arrays[0])] for parts in zip(*batches)] if outputs else None


def exported_outputs(model, data, batch_size=1024):
    """The outputs of ``to_proxy_model(model)`` on ``data``, computed by the calibrated H-model itself in one pass (no
    export): every quantizer wraps around its calibrated type as the proxy's quantizer does, and a ``Signature``
    truncates and wraps to its declared types. A NumPy array, or a list for several outputs.

    Raises:
        ValueError: for data that does not match the model's inputs, is empty, or holds NaN or infinite values.
    """
    require_specs(model, "exported_outputs")
    return emulate_export(model, checked_inputs(model, data, "exported_outputs"), batch_size)


def emulate_export(model, arrays, batch_size=1024):
    """``exported_outputs`` of ``arrays`` already checked (``checked_inputs``): what a callback that runs every epoch
    on the same data calls, so that the data is checked once."""
    layers = all_quantizers(model) + [layer for _, layer in flat_layers(model) if isinstance(layer, Signature)]
    outputs = _run(model, arrays, batch_size, "exported_outputs", layers, "emulated_overflow", outputs=True)
    return outputs if len(outputs) > 1 else outputs[0]


def checked_inputs(model, data, who):
    """``data`` as one NumPy array per input of ``model``, or ``ValueError`` (starting with ``who``) for data that
    does not match the model's inputs, is empty, or holds NaN or infinite values."""
    return check_values(model, input_arrays(model, data, who), who)


def check_options(batch_size, cover_factor, who):
    """``ValueError`` starting with ``who`` unless ``batch_size`` is at least 1 and ``cover_factor`` positive."""
    if not cover_factor > 0:
        raise ValueError(f"{who}: cover_factor must be positive, got {cover_factor!r}")
    if int(batch_size) < 1:
        raise ValueError(f"{who}: batch_size must be a positive integer, got {batch_size!r}")


def trace_minmax(model, data, batch_size=1024, cover_factor=1.0, verbose=False):
    """Calibrate ``model`` on ``data`` and return its exact total BOPs.

    Resets the records, runs ``data`` through the model in inference mode while recording the range of
    every quantized tensor, then scales each range by ``cover_factor`` (``> 1`` leaves headroom against
    overflow; ``< 1`` saves bits and lets rare large values overflow).

    Args:
        model: an H-model.
        data: an array, or a list of arrays for a multi-input model.
        batch_size: samples per forward pass.
        cover_factor: range scale, a positive number.
        verbose: print progress and the resulting BOPs.

    Raises:
        ValueError: for data that does not match the model's inputs, is empty, or holds NaN or infinite values.
    """
    check_options(batch_size, cover_factor, "trace_minmax")
    require_specs(model, "trace_minmax")
    return calibrate(model, checked_inputs(model, data, "trace_minmax"), batch_size, cover_factor, verbose)


def calibrate(model, arrays, batch_size=1024, cover_factor=1.0, verbose=False):
    """``trace_minmax`` of ``arrays`` already checked (``checked_inputs``): what a callback that calibrates every
    epoch on the same data calls, so that the data is checked once."""
    quantizers = all_quantizers(model)
    reset_minmax(model)
    _run(model, arrays, batch_size, "calibration", quantizers, "calibrating", verbose)
    if cover_factor != 1:
        for q in quantizers:
            q.widen_minmax(cover_factor)
    bops = total_bops(model)
    if verbose:
        print(f"\ntrace_minmax: BOPs = {bops:,.0f}")
    return bops
