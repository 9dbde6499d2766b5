"""Training overhead of HGQ: epoch time of an H-model divided by that of the same float Keras model.

``--model mlp`` (default): MLP 16-64-32-32-5 on generated 5-class data. ``--model cnn``: two 3x3
convolutions with 2x2 max-pooling and a dense head on generated 32x32x3 images, 10 classes. Both models
trained in this process with Adam and the same loss. Each model runs ``--repeats`` fit calls of ``--epochs`` epochs, the two models taking turns
(so that a slow spell of a shared machine hits both); the first epoch of every fit call is a warm-up and
is dropped. Reported: the median and fastest epoch time of each model and their ratios.

    python benchmarks/train_overhead.py [--backend tensorflow|jax] [--model mlp|cnn] [--epochs N] [--repeats N]
                                        [--samples N] [--batch-size N] [--frozen-input] [--jit-compile] [--x64]

``--backend`` sets ``KERAS_BACKEND`` before Keras is imported (without it, ``KERAS_BACKEND`` is honoured as usual).
``--x64`` turns on JAX's 64-bit mode (``JAX_ENABLE_X64=1``); training does not need it (the quantizers train in
float32), so it is off unless the environment sets it. The last line of the output, ``RESULT {...}``, is JSON for
``benchmarks/compare_hgq2.py``.
"""

import overhead_common as common  # first: it sets KERAS_BACKEND from --backend before Keras is imported

import keras  # after the backend is chosen
from hgq.layers import HConv2D, HDense, HQuantize, PFlatten, PMaxPooling2D

BETA = common.BETA


def hgq_model(frozen_input=False):
    inp = keras.Input((16,))
    x = HQuantize(beta=BETA, paq_conf={"trainable": not frozen_input})(inp)
    x = HDense(64, activation="relu", beta=BETA)(x)
    x = HDense(32, activation="relu", beta=BETA)(x)
    x = HDense(32, activation="relu", beta=BETA)(x)
    return keras.Model(inp, HDense(5, beta=BETA)(x))


def hgq_cnn(frozen_input=False):
    inp = keras.Input((32, 32, 3))
    x = HQuantize(beta=BETA, paq_conf={"trainable": not frozen_input})(inp)
    x = HConv2D(16, 3, activation="relu", beta=BETA)(x)
    x = PMaxPooling2D(2)(x)
    x = HConv2D(32, 3, activation="relu", beta=BETA)(x)
    x = PMaxPooling2D(2)(x)
    x = PFlatten()(x)
    return keras.Model(inp, HDense(10, beta=BETA)(x))


if __name__ == "__main__":
    common.main(__doc__, "hgq", "HGQ", {"mlp": hgq_model, "cnn": hgq_cnn},
                flags={"frozen_input": "do not train the input quantizer's bit widths (as for inputs of a fixed "
                                       "type): the first layer then needs no gradient w.r.t. its input"})
