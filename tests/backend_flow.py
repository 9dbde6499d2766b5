"""One side of a cross-backend check, run by ``test_backends.py`` in a subprocess (the backend comes from
``KERAS_BACKEND``, chosen before Keras is imported):

    python backend_flow.py save DIR    # train and calibrate an H-model; write model.keras, proxy.keras, x.npy, y.npy
    python backend_flow.py load DIR    # load both files, rebuild the proxy, predict x
    python backend_flow.py load DIR1 save DIR2    # several steps in one process, in order

It prints one JSON line: a list with each step's result and the backend. ``save`` and ``load`` are also called in
the test's own process (TensorFlow).

``y.npy`` holds the saving side's proxy outputs on ``x`` (the calibration data and three times it, which
overflows); the loading side compares its outputs with them exactly.
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))


def save(directory):
    from conftest import trained_mlp

    import hgq

    model, x = trained_mlp(epochs=2)
    x = np.concatenate([x[:600], 3 * x[:600]]).astype(np.float64)
    proxy = hgq.to_proxy_model(model, aggressive=True)
    model.save(os.path.join(directory, "model.keras"))
    proxy.save(os.path.join(directory, "proxy.keras"))
    np.save(os.path.join(directory, "x.npy"), x)
    np.save(os.path.join(directory, "y.npy"), proxy.predict(x, verbose=0))
    return {}


def load(directory):
    import keras

    import hgq

    x, y = (np.load(os.path.join(directory, name)) for name in ("x.npy", "y.npy"))
    model = keras.models.load_model(os.path.join(directory, "model.keras"))
    rebuilt = hgq.to_proxy_model(model, aggressive=True).predict(x, verbose=0)
    saved = keras.models.load_model(os.path.join(directory, "proxy.keras")).predict(x, verbose=0)
    return {"samples": len(x), "rebuilt_proxy_equal": bool(np.array_equal(rebuilt, y)),
            "saved_proxy_equal": bool(np.array_equal(saved, y))}


if __name__ == "__main__":
    import keras

    steps = sys.argv[1:]
    actions = {"save": save, "load": load}
    print(json.dumps([{"backend": keras.backend.backend(), **actions[action](directory)}
                      for action, directory in zip(steps[::2], steps[1::2])]))
