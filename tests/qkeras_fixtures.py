"""The QKeras fixtures (shared/fixtures/qkeras, copied into tests/fixtures/qkeras): models saved by real QKeras 0.9.0
with their inputs and outputs."""

import json
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "qkeras"  # made with real QKeras 0.9.0, see index.json
NAMES = list(json.loads((FIXTURES / "index.json").read_text())["models"])


def fixture(name):
    return np.load(FIXTURES / f"{name}_X.npy"), np.load(FIXTURES / f"{name}_Y.npy")


def predict(model, x):
    return model.predict(np.asarray(x, np.float64), verbose=0, batch_size=1024)


def mlp_config():
    return json.loads((FIXTURES / "mlp.json").read_text())


def layer(config, name):
    return next(c for c in config["config"]["layers"] if c["config"]["name"] == name)


def write_json(config, tmp_path):
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(config))
    return path
