"""HGQ2's training overhead on the workloads of ``train_overhead.py``, for comparison: run with HGQ2's own Python.

HGQ2 (PyPI ``hgq2``) installs a top-level ``hgq`` module too, so it lives in its own virtual environment, e.g.
``python3 -m venv /tmp/hgq2venv && /tmp/hgq2venv/bin/pip install hgq2==0.2.0 tensorflow jax``. The data, the
float models, the timing and the output are those of ``train_overhead.py``, shared through ``overhead_common.py``
(which imports no quantization library, so both environments can run it); the quantized models use HGQ2's layers with its defaults (``kbi``
kernel quantizers, ``kif`` input quantizers with only the batch axis shared, input quantization on, output
quantization off, EBOPs on), ``beta0=1e-6`` on every quantized layer like ``BETA`` there:

- MLP: ``QDense(64, relu)`` → ``QDense(32, relu)`` → ``QDense(32, relu)`` → ``QDense(5)``;
- CNN: ``QConv2D(16, 3, relu)`` → ``MaxPooling2D(2)`` → ``QConv2D(32, 3, relu)`` → ``MaxPooling2D(2)`` →
  ``Flatten`` → ``QDense(10)`` (each Q-layer quantizes its own input, so the first one quantizes the image).

    /tmp/hgq2venv/bin/python benchmarks/train_overhead_hgq2.py [--backend tensorflow|jax] [--model mlp|cnn] ...
"""

import overhead_common as common  # first: it sets KERAS_BACKEND from --backend before Keras is imported

import keras  # after the backend is chosen
from hgq.layers import QConv2D, QDense  # HGQ2's

BETA = common.BETA


def hgq2_model():
    inp = keras.Input((16,))
    x = QDense(64, activation="relu", beta0=BETA)(inp)
    x = QDense(32, activation="relu", beta0=BETA)(x)
    x = QDense(32, activation="relu", beta0=BETA)(x)
    return keras.Model(inp, QDense(5, beta0=BETA)(x))


def hgq2_cnn():
    inp = keras.Input((32, 32, 3))
    x = QConv2D(16, 3, activation="relu", beta0=BETA)(inp)
    x = keras.layers.MaxPooling2D(2)(x)
    x = QConv2D(32, 3, activation="relu", beta0=BETA)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inp, QDense(10, beta0=BETA)(x))


if __name__ == "__main__":
    common.main(__doc__, "hgq2", "HGQ2", {"mlp": hgq2_model, "cnn": hgq2_cnn})
