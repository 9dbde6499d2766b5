"""What every command shares: quiet imports, progress lines, reading model and data files, clear errors.

Nothing here imports TensorFlow, Keras or hls4ml at module level: ``hgq --help`` must stay fast.
"""

import os
import sys
import time
import zipfile

from ..outputs import OutputFolder


class CLIError(Exception):
    """An error the user can fix: printed as one ``error: ...`` line, without a traceback."""


#: The kind of a QKeras model file, converted to a proxy (the others are ``hgq.model_kind``'s).
QKERAS = "qkeras"


def quiet_keras(verbose):
    """Keras, with its logging quietened unless ``verbose`` (``hgq_cli`` imported the library quietly)."""
    import keras

    if not verbose:
        import logging

        logging.getLogger("absl").setLevel(logging.ERROR)
        keras.utils.disable_interactive_logging()
    return keras


class Progress:
    """``[12.3 s] message`` lines on the terminal's stderr, kept visible while hls4ml's output is hidden."""

    def __init__(self, enabled=True):
        self.start = time.perf_counter()
        self.enabled = enabled
        self.stream = os.fdopen(os.dup(sys.stderr.fileno()), "w") if enabled and _has_fd(sys.stderr) else sys.stderr

    def __call__(self, message):
        if self.enabled:
            print(f"[{time.perf_counter() - self.start:5.1f} s] {message}…", file=self.stream, flush=True)


def _has_fd(stream):
    try:
        stream.fileno()
        return True
    except (AttributeError, OSError, ValueError):
        return False


def load_model(path, weights=None, verbose=False):
    """``(model, kind)`` read from ``path``: kind ``"H-model"``, ``"proxy"``, ``"float"`` (``hgq.model_kind``) or
    ``"qkeras"`` (a QKeras file, converted to a proxy).

    ``.keras`` files are H-models or proxies; ``.h5``/``.json`` are QKeras models (``hgq.qkeras.from_qkeras``).
    """
    if not os.path.exists(path):
        raise CLIError(f"model file not found: {path}")
    if os.path.isdir(path):
        raise CLIError(f"the model path {path} is a directory, not a model file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".h5", ".json"):
        from ..qkeras import from_qkeras

        if suffix == ".json" and weights is None:
            guess = path[: -len(".json")] + ".weights.h5"
            weights = guess if os.path.isfile(guess) else None
        try:
            return from_qkeras(path, weights=weights), QKERAS
        except (ValueError, OSError, KeyError, TypeError) as error:
            raise CLIError(f"cannot read the QKeras model file {path}: {error}") from error
    if suffix != ".keras":
        raise CLIError(f"unknown model file type {path!r}: expected NAME.keras (H-model or proxy), or a QKeras "
                       "NAME.h5 / NAME.json")
    if not zipfile.is_zipfile(path):
        raise CLIError(f"cannot read the model file {path}: not a valid .keras archive (truncated or corrupt?)")
    keras = quiet_keras(verbose)
    try:
        model = keras.models.load_model(path)
    except Exception as error:  # Keras raises many types for a bad archive
        raise CLIError(f"cannot read the model file {path}: {type(error).__name__}: {error}") from error
    from ..model_kind import model_kind

    return model, model_kind(model)


def is_calibrated(model):
    """True when every quantizer of the H-model ``model`` has a recorded range (trained or ``trace_minmax``)."""
    from ..calibration import all_quantizers

    return all(q.is_calibrated() for q in all_quantizers(model))


def load_data(path, model=None, who="--data"):
    """The ``.npy`` array at ``path``, checked against ``model``'s input (shape, empty, NaN/inf)."""
    import numpy as np

    if not path.endswith(".npy"):
        raise CLIError(f"{who} must be a NumPy .npy file, got {path!r}")
    if not os.path.isfile(path):
        raise CLIError(f"data file not found: {path}")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise CLIError(f"cannot read the data file {path}: {error}") from None
    if model is not None:
        from ..data import check_values, input_arrays

        try:
            check_values(model, input_arrays(model, array, f"data file {path}"), f"data file {path}")
        except ValueError as error:
            raise CLIError(str(error)) from None
    return array


def output_folder(args, who):
    """The ``--output-dir`` of ``args`` as an ``hgq.outputs.OutputFolder`` (``--overwrite`` lets it hold files hgq
    did not write; they are kept)."""
    return OutputFolder(args.output_dir, who, overwrite=args.overwrite)
