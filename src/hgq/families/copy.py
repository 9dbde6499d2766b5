"""Copying a float layer's weights into the H-layer ``quantize_model`` makes of it."""

import keras

BATCHNORM_WEIGHTS = (("bn_gamma", "gamma"), ("bn_beta", "beta"), ("moving_mean", "moving_mean"),
                     ("moving_variance", "moving_variance"))


def copy_weight(target, source):
    """``target`` takes ``source``'s value as a copy: on JAX the H-model's training would otherwise donate (delete)
    the float model's buffers."""
    target.assign(keras.ops.convert_to_numpy(source))


def copy_batchnorm(h, bn):
    """The batch normalization ``bn``'s scale, offset and moving statistics into ``h`` (those it has)."""
    for name, value in BATCHNORM_WEIGHTS:
        if getattr(h, name, None) is not None:
            copy_weight(getattr(h, name), getattr(bn, value))
