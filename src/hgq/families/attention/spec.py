"""Specs of multi-head attention: ``HMultiHeadAttention`` (a composite layer whose kernels, costs and export are its
parts') and the float ``keras.layers.MultiHeadAttention`` that ``quantize_model`` turns into one."""

import keras

from ..composite import CostsOfTheHLayer, composite_costs, part_kernels
from ..copy import copy_weight
from ..registry import LayerSpec, OwnTypes, ProxyRule, register, spec_of
from .layer import HMultiHeadAttention

#: Keras' names of the projections (the last part of their weights' paths), by ``HMultiHeadAttention`` part.
_KERAS_PROJECTIONS = {"query": "query", "key": "key", "value": "value", "output": "attention_output"}

#: The parts on the critical path, in order (the three projections run side by side).
_SEQUENCE = (("query", "key", "value"), ("scores",), ("softmax",), ("context",), ("output",))


@register(HMultiHeadAttention)
class HMultiHeadAttentionSpec(OwnTypes, LayerSpec):
    """Its kernels are the four projections' (four ``KernelView``s), its costs the sum of its parts' (each given the
    types its inputs have), its latency the critical path, its proxy the parts' proxies in sequence."""

    io_stream = False

    def kernels(self, layer):
        return part_kernels(layer)

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        steps = [tuple(layer.part(name) for name in step) for step in _SEQUENCE]
        projections = [layer.part(name) for name in ("query", "key", "value", "output")]
        return composite_costs(layer, dsp_min_bits, steps, projections)

    def convert(self, layer, inputs, ctx):
        """The parts' proxies, named ``<layer>_<part>``, wired as the layer computes."""
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value

        def convert(name, x):
            part = layer.part(name)
            return spec_of(part, ctx.caller, ProxyRule).convert(part, x, ctx)

        q, k, v = convert("query", query), convert("key", key), convert("value", value)
        weights = convert("softmax", convert("scores", [q, k]))
        return convert("output", convert("context", [weights, v]))


@register(keras.layers.MultiHeadAttention)
class MultiHeadAttentionSpec(CostsOfTheHLayer, LayerSpec):
    """The float ``keras.layers.MultiHeadAttention``: ``quantize_model`` makes an ``HMultiHeadAttention`` of it (its
    dropout, the identity at inference, dropped). Its costs and kernels are the H-layer's: asked of the float layer,
    they are refused, like any export."""

    h_layer = "HMultiHeadAttention"
    io_stream = False

    def quantized(self, layer, args, kwargs, options):
        cfg = layer.get_config()
        rank = len(args[0].shape)
        unsupported = {"use_gate": cfg.get("use_gate", False), "sliding_window": cfg.get("sliding_window"),
                       "attention_axes": cfg.get("attention_axes")}
        for key, value in unsupported.items():
            if value not in (None, False) and not (key == "attention_axes" and tuple(value) == (rank - 2,)):
                raise ValueError(f"quantize_model: MultiHeadAttention {layer.name!r} has {key}={value!r}, which "
                                 "HMultiHeadAttention does not support (attention over the tokens of (batch, tokens, "
                                 "features) sequences, no gate, no sliding window)")
        output_shape = cfg["output_shape"]
        if isinstance(output_shape, (tuple, list)):
            if len(output_shape) != 1:
                raise ValueError(f"quantize_model: MultiHeadAttention {layer.name!r} has output_shape="
                                 f"{output_shape!r}; HMultiHeadAttention gives one feature axis")
            output_shape = output_shape[0]
        h = HMultiHeadAttention(cfg["num_heads"], cfg["key_dim"], cfg["value_dim"], output_shape, cfg["use_bias"],
                                name=layer.name, kernel_initializer=cfg["kernel_initializer"],
                                bias_initializer=cfg["bias_initializer"], **options.h_kwargs())
        y = h(*args, **kwargs)
        by_path = {w.path.split("/", 1)[-1]: w for w in layer.weights}
        for part, keras_name in _KERAS_PROJECTIONS.items():
            for weight in ("kernel", "bias") if cfg["use_bias"] else ("kernel",):
                copy_weight(getattr(h.part(part), weight), by_path[f"{keras_name}/{weight}"])
        return y
