"""Specs of plain Keras layers that only float models hold (pruning and profiling read them): their costs beyond the
parameter count are unknown, and they cannot be exported."""

import keras

from .registry import LayerSpec, register


@register(keras.layers.BatchNormalization)
class FloatNormalizationSpec(LayerSpec):
    """A standalone batch normalization of a float model (fused into the kernel layer in hgq models)."""

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        from ..cost.layer import LayerCosts

        return LayerCosts(params=layer.count_params(), macs=0)

    def is_channelwise(self, layer):
        return True
