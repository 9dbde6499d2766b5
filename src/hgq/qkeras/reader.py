"""Read a Keras 2 (QKeras) model without Keras 2: the architecture as a JSON dict, the weights as NumPy arrays.

Two input forms: a legacy full-model ``.h5`` file (``model_config`` attribute, weights under ``model_weights``),
or an architecture ``.json`` plus a weights file (Keras 2 ``save_weights``: the ``.weights.h5`` layout
``layers/<name>/vars/<i>``, or the legacy ``.h5`` layout with a ``layer_names`` attribute).
"""

import json
import re
from pathlib import Path

import h5py
import numpy as np


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _require_file(path, what):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"from_qkeras: {what} {str(path)!r} does not exist")
    return path


def snake_case(class_name):
    """Keras 2's ``to_snake_case``: the name ``.weights.h5`` files give a layer of this class."""
    name = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name if name[0] != "_" else "private" + name


def _legacy_weights(group):
    """``{layer name: [arrays]}`` from a group with the ``layer_names`` / ``weight_names`` attributes."""
    weights = {}
    for layer in (_text(n) for n in group.attrs["layer_names"]):
        names = [_text(n) for n in group[layer].attrs["weight_names"]]
        weights[layer] = [np.asarray(group[layer][n]) for n in names]
    return weights


def _saving_lib_weights(group, layers):
    """``{layer name: [arrays]}`` from the ``layers/<snake_case class>_<n>/vars/<i>`` layout."""
    weights, used = {}, {}
    for layer in layers:
        key = snake_case(layer["class_name"])
        used[key] = used.get(key, -1) + 1
        key = key if used[key] == 0 else f"{key}_{used[key]}"
        if key in group:
            variables = group[key]["vars"]
            weights[layer["config"]["name"]] = [np.asarray(variables[str(i)]) for i in range(len(variables))]
    return weights


def _weights_file(path, layers):
    with h5py.File(path, "r") as f:
        if "layer_names" in f.attrs:
            return _legacy_weights(f)
        if "layers" in f:
            return _saving_lib_weights(f["layers"], layers)
    raise ValueError(f"from_qkeras: {str(path)!r} is not a Keras 2 weights file")


def layer_configs(config):
    """The layer configs of a ``Functional``/``Model`` or ``Sequential`` model config."""
    return config["config"]["layers"]


def read_model(path, weights=None):
    """Return ``(model_config, {layer name: [weight arrays]})`` from a QKeras model file.

    Args:
        path: a legacy full-model ``.h5`` file, or an architecture ``.json`` file.
        weights: the weights file that goes with a ``.json`` architecture (ignored for ``.h5``).
    """
    path = _require_file(path, "model file")
    if path.suffix == ".json":
        if weights is None:
            raise ValueError(f"from_qkeras: {str(path)!r} holds only the architecture; pass weights=<file>.weights.h5")
        config = json.loads(path.read_text())
        return config, _weights_file(_require_file(weights, "weights file"), layer_configs(config))
    with h5py.File(path, "r") as f:
        if "model_config" not in f.attrs or "model_weights" not in f:
            raise ValueError(f"from_qkeras: {str(path)!r} is not a Keras 2 full-model .h5 file (no model_config)")
        return json.loads(_text(f.attrs["model_config"])), _legacy_weights(f["model_weights"])
