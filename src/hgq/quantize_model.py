"""``quantize_model``: a float Keras model becomes the equivalent H-model, its weights copied, layer by layer as each
float layer type's spec says (``LayerSpec.quantized``)."""

import dataclasses

import keras

from . import graph
from .layers import HQuantize
from .model_kind import FLOAT, model_kind
from .families.registry import QuantizeRule, find_spec, registered_types

OPTION_KEYS = ("beta", "kq_conf", "paq_conf")


@dataclasses.dataclass
class QuantizeOptions:
    """What ``quantize_model`` gives one H-layer: its ``beta``, ``kq_conf`` and ``paq_conf``, and the batch
    normalization that follows a kernel layer and that it absorbs (``None`` without)."""

    beta: float = 0.0
    kq_conf: dict | None = None
    paq_conf: dict | None = None
    batchnorm: keras.layers.Layer | None = None

    def h_kwargs(self, kernel=True):
        """The keyword arguments of an H-layer (``kq_conf`` only for layers with a kernel)."""
        kwargs = {"beta": self.beta, "paq_conf": self.paq_conf}
        return {**kwargs, "kq_conf": self.kq_conf} if kernel else kwargs


def quantizable_types():
    """The Keras layer types ``quantize_model`` maps, by name (those whose spec gives ``quantized``)."""
    return sorted(cls.__name__ for cls in registered_types()
                  if cls.__module__.startswith("keras.")
                  and type(find_spec(cls, QuantizeRule)).quantized is not QuantizeRule.quantized)


def _fused_batchnorms(model):
    """``{id(kernel layer): batch normalization}`` for each BatchNormalization of the last axis fed by a layer with a
    kernel (whose spec can fuse it) that feeds nothing else: the kernel layer's fused H-layer absorbs it."""
    consumers = {}
    for _, layer in graph.flat_layers(model):
        for producer in graph.input_layers(layer):
            consumers.setdefault(id(producer), []).append(layer)
    fused = {}
    for _, layer in graph.flat_layers(model):
        following = consumers.get(id(layer), [])
        spec = find_spec(layer, QuantizeRule)
        if spec is None or len(following) != 1 or not spec.fuses_batchnorm(layer):
            continue
        bn, rank = following[0], len(graph.output_shapes(layer)[0])
        if isinstance(bn, keras.layers.BatchNormalization) and bn.axis % rank == rank - 1:
            fused[id(layer)] = bn
    return fused


def _index_inputs(model):
    """``{id(input tensor)}`` of the model's inputs that only layers reading indices take (``Embedding``): the H-layer
    reads them itself, without an ``HQuantize``."""
    readers = {}
    for _, layer in graph.flat_layers(model):
        for producer in graph.input_layers(layer):
            readers.setdefault(id(producer), []).append(layer)
    def reads_indices(layer):
        spec = find_spec(layer, QuantizeRule)
        return spec is not None and spec.reads_indices

    return {id(t) for t in model.inputs
            if all(reads_indices(r) for r in readers.get(id(graph.producer_of(t)), [None]))}


def quantize_model(model, beta=0.0, kq_conf=None, paq_conf=None, input_conf=None, layers=None):
    """The H-model equivalent to the float Keras model ``model``: each layer replaced by its H-layer (or P-layer),
    with its weights copied and its name kept, an ``HQuantize`` at each input (named ``<input>_q``) but those that
    only ``Embedding`` layers read (integer indices, which ``HEmbedding`` reads itself).

    Dense, Conv1D/2D and EinsumDense become their H-layers (a BatchNormalization of the last axis right after one,
    fed by nothing else, is fused into it: ``HDenseBatchNorm``, ...; any other BatchNormalization becomes an
    ``HBatchNormalization``); MultiHeadAttention an ``HMultiHeadAttention``; an activation other than linear and
    ReLU inside a kernel layer an ``HActivation`` after it, ``softmax`` an ``HSoftmax``; Add, Subtract, Multiply,
    Maximum, Minimum their H-merges; pooling, Flatten, Reshape and Concatenate their P-layers; Dropout (the identity
    at inference) is dropped. Nested models are flattened; shared layers and subclassed models are refused.

    Args:
        model: a built functional or Sequential Keras model of float layers.
        beta: BOPs weight of every H-layer.
        kq_conf: kernel-quantizer options of every H-layer with weights.
        paq_conf: output-quantizer options of every H-layer.
        input_conf: options of the ``HQuantize`` at each input (default: ``paq_conf``).
        layers: ``{layer name: {"beta": ..., "kq_conf": ..., "paq_conf": ...}}``, overriding the above for some
            layers.

    Raises:
        ValueError: naming the layer, for a layer type it cannot map (listing those it can), an unknown name in
            ``layers``, or a model that already holds hgq layers.
    """
    graph.require_graph_model(model, "quantize_model")
    if model_kind(model) != FLOAT:
        raise ValueError(f"quantize_model: model {model.name!r} already holds hgq layers ({model_kind(model)}); "
                         "give it a float Keras model")
    graph.check_no_shared_layers(model)
    names = {layer.name for _, layer in graph.flat_layers(model)}
    for name, options in (layers or {}).items():
        if name not in names:
            raise ValueError(f"quantize_model: layers names {name!r}, which model {model.name!r} does not hold")
        bad = sorted(set(options) - set(OPTION_KEYS))
        if bad:
            raise ValueError(f"quantize_model: layers[{name!r}] has unknown keys {bad}; allowed: {list(OPTION_KEYS)}")
    fused = _fused_batchnorms(model)
    absorbed = {id(bn) for bn in fused.values()}

    def quantize(layer, *args, **kwargs):
        if id(layer) in absorbed:
            return args[0]  # the kernel layer before it normalizes
        spec = find_spec(layer, QuantizeRule)
        options = QuantizeOptions(beta, kq_conf, paq_conf, fused.get(id(layer)))
        options = dataclasses.replace(options, **(layers or {}).get(layer.name, {}))
        outputs = None if spec is None else spec.quantized(layer, args, kwargs, options)
        if outputs is None:
            raise ValueError(f"quantize_model: layer {layer.name!r} of type {type(layer).__name__} cannot be "
                             f"quantized; quantize_model maps {', '.join(quantizable_types())}")
        return outputs

    inputs = [keras.Input(batch_shape=t.shape, dtype=t.dtype, name=t.name) for t in model.inputs]
    indices = _index_inputs(model)
    quantized = [x if id(t) in indices else
                 HQuantize(paq_conf=paq_conf if input_conf is None else input_conf, name=f"{t.name}_q")(x)
                 for t, x in zip(model.inputs, inputs)]
    outputs = graph.run(model, quantized if len(quantized) > 1 else quantized[0], quantize)
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=f"{model.name}_hgq")
