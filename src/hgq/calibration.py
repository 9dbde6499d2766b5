"""Calibration: record the value range of every quantized tensor, which fixes integer bits and signs."""

from .backend import inference
from .cost import iter_hlayers, total_bops
from .data import check_values, input_arrays, same_size_batches
from .families.registry import require_specs


def all_quantizers(model):
    """Every quantizer of every H-layer of ``model``."""
    return [q for layer in iter_hlayers(model) for q in layer.quantizers()]


def reset_minmax(model):
    """Forget every recorded range of ``model``."""
    for q in all_quantizers(model):
        q.reset_minmax()


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
    if not cover_factor > 0:
        raise ValueError(f"trace_minmax: cover_factor must be positive, got {cover_factor!r}")
    if int(batch_size) < 1:
        raise ValueError(f"trace_minmax: batch_size must be a positive integer, got {batch_size!r}")
    require_specs(model, "trace_minmax")
    arrays = check_values(model, input_arrays(model, data, "trace_minmax"), "trace_minmax")
    quantizers = all_quantizers(model)
    reset_minmax(model)
    for q in quantizers:
        q.calibrating = True
    try:
        run = inference(model, "calibration")
        # the samples that fill up the last batch were already seen: they leave the recorded ranges as they are
        for end, batch in same_size_batches(arrays, batch_size):
            run(batch if len(batch) > 1 else batch[0])
            if verbose:
                print(f"\rtrace_minmax: {end}/{len(arrays[0])} samples", end="", flush=True)
    finally:
        for q in quantizers:
            q.calibrating = False
    for q in quantizers:
        q.widen_minmax(cover_factor)
    bops = total_bops(model)
    if verbose:
        print(f"\ntrace_minmax: BOPs = {bops:,.0f}")
    return bops
