"""The layer specs: one registration per layer type, holding everything the pipeline needs to know about it.

A ``LayerSpec`` subclass describes one family of layers; ``@register(LayerClass, ...)`` files one instance of it under
those classes, and a layer finds the spec of the nearest class along its MRO (``spec_of``). The cost model, the
saturation pass, the proxy converters, the hls4ml settings, pruning, profiling and the command line ask the spec and
never list layer types of their own; a layer whose type has no spec is refused by name (``UnsupportedLayerError``).
``docs/architecture.md`` shows the protocol and how a new layer type fits it.
"""

from .. import graph
from ..quantizer.types import as_numpy
from .costs import LayerCosts

_SPECS = {}


class UnsupportedLayerError(ValueError):
    """A layer whose type has no spec (or whose spec cannot do what was asked)."""


def register(*layer_classes):
    """Class decorator: file one instance of the decorated ``LayerSpec`` subclass under each of ``layer_classes``."""
    def decorate(spec_class):
        spec = spec_class()
        for cls in layer_classes:
            _SPECS[cls] = spec
        return spec_class
    return decorate


def find_spec(layer, role=None):
    """The spec of ``layer`` (a layer or a layer class: of the nearest class along its MRO that has one), or
    ``None``; with ``role`` (one of ``ROLES``), ``None`` also when the spec does not play that role."""
    mro = layer.__mro__ if isinstance(layer, type) else type(layer).__mro__
    spec = next((_SPECS[cls] for cls in mro if cls in _SPECS), None)
    return spec if role is None or isinstance(spec, role) else None


def spec_of(layer, who, role=None):
    """The spec of ``layer`` (playing ``role``, one of ``ROLES``, when given); ``UnsupportedLayerError`` naming the
    layer, its type, ``who`` asked and the missing role when it has none."""
    spec = find_spec(layer, role)
    if spec is None:
        what = "no spec" if role is None or find_spec(layer) is None else f"a spec without the {role.__name__} role"
        raise UnsupportedLayerError(f"{who}: layer {layer.name!r} of type {type(layer).__name__} is not supported "
                                    f"(hgq has {what} for it); build the model from hgq layers, or register a "
                                    "hgq.specs.LayerSpec for this type (docs/architecture.md)")
    return spec


def input_shapes(layer):
    """The shapes (batch axis included) of the inputs of ``layer``'s call: from the model's graph, or, for a part of
    a composite layer, as the composite layer wired it (``ReadsInputTypes.wire``)."""
    return layer.input_shapes() if hasattr(layer, "wire") else graph.input_shapes(layer)


def require_specs(model, who, role=None):
    """Refuse, by name, a subclassed model (``hgq.graph.require_graph_model``) and the first layer of ``model``
    (nested models included) whose type has no spec (playing ``role``, when given)."""
    graph.require_graph_model(model, who)
    for _, layer in graph.flat_layers(model):
        spec_of(layer, who, role)


def registered_types():
    """Every layer class that has a spec of its own."""
    return tuple(_SPECS)


class TypeRule:
    """Role: the type of each output element (the cost report, the saturation pass, accumulators)."""

    def output_kif(self, layer, input_kifs):
        """The type of each output element given the types of the inputs, as hls4ml's bit-exact pass derives it
        for a plain layer, from its own quantizer for a quantized layer; ``None`` when unknown."""
        return None


class CostRule:
    """Role: the kernels and every cost (the cost model, hls4ml's reuse factors, pruning's view of the kernels). The
    defaults: a layer that does not multiply and moves values without arithmetic cost."""

    def kernels(self, layer):
        """The layer's kernels (``hgq.families.kernel_view.KernelView`` each); empty for a layer that does not
        multiply."""
        return []

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        """Every cost of the layer (``hgq.families.costs.LayerCosts``) given its inputs' types (see
        ``hgq.cost.layer_costs``)."""
        return LayerCosts(params=0, macs=0, bops=0.0, weight_memory_bits=0, lut_est=0.0, dsp_est=0.0,
                          latency_est_cycles=self.latency(layer, input_kifs))

    def latency(self, layer, input_kifs):
        """Estimated clock cycles of a layer without kernels (``hgq.families.estimates``)."""
        return 0

    def parallel_factor(self, layer):
        """Output positions the firmware computes at once (a convolution's ``parallel_factor``); 1 otherwise."""
        return 1


class ProxyRule:
    """Role: the layer's proxy (``to_proxy_model``). The default refuses the layer by name."""

    def convert(self, layer, inputs, ctx):
        """Build the proxy of ``layer`` (plain Keras layers and ``FixedPointQuantizer``s) on the proxy tensor(s)
        ``inputs`` and return its output(s). ``ctx``: the export's options (``hgq.proxy.context.Context``)."""
        raise UnsupportedLayerError(f"{ctx.caller}: layer {layer.name!r} of type {type(layer).__name__} cannot be "
                                    "exported; build the model from hgq layers (HQuantize first)")


class Hls4mlRule:
    """Role: what hls4ml can build of the layer (``convert_to_hls4ml``)."""

    #: Whether hls4ml has an ``io_stream`` implementation of the layer that hgq exports to (``True``); else
    #: ``False``, or a sentence saying why not.
    io_stream = True
    #: Whether hls4ml builds the layer with its Resource strategy.
    resource = True

    def hls4ml_refusal(self, layer):
        """Why hls4ml cannot build this layer (a sentence naming what to change), or ``None`` when it can."""
        return None

    def hls4ml_header(self, layer):
        """``(include guard, header)``: an hls4ml C++ header of the layer's firmware whose include guard another
        header shares, so that the two cannot be in one project; ``None`` for most layers."""
        return None


class QuantizeRule:
    """Role: the H-layer(s) that replace a float layer (``hgq.quantize_model``). The default: it cannot be
    quantized."""

    #: Whether the layer reads integer indices (``Embedding``): a model input that only such layers read gets no
    #: ``HQuantize``.
    reads_indices = False

    def quantized(self, layer, args, kwargs, options):
        """The H-layer(s) that replace this float layer in ``hgq.quantize_model``, called on the H-model's tensors
        ``args`` and ``kwargs`` (as the float layer was called), their weights copied from it; the output(s).
        ``options``: a ``hgq.quantize_model.QuantizeOptions``. ``None``: the type cannot be quantized."""
        return None

    def fuses_batchnorm(self, layer):
        """Whether a batch normalization right after the layer can be fused into its H-layer (``quantize_model``)."""
        return False


class PruningRule:
    """Role: how pruning (``hgq.optimization``) may remove the layer's weights and outputs."""

    #: Config key of the number of output units, for specs whose outputs can be removed (structured pruning).
    output_units_key = None

    #: Pruning structures the layer's kernels support (``hgq.optimization.config.SUPPORTED_STRUCTURES`` values).
    pruning_structures = ()

    def is_channelwise(self, layer):
        """Whether each output channel (last axis) is computed from the same input channel only, so that removing a
        channel upstream removes it here too (structured pruning)."""
        return False


#: The roles a spec plays, each asked by one engine (``find_spec(layer, role)``, ``spec_of(layer, who, role)``).
ROLES = (TypeRule, CostRule, ProxyRule, Hls4mlRule, QuantizeRule, PruningRule)


class LayerSpec(TypeRule, CostRule, ProxyRule, Hls4mlRule, QuantizeRule, PruningRule):
    """What the pipeline knows about one layer type: every role (``ROLES``), each with the defaults of a layer that
    moves values without arithmetic cost and cannot be exported; a subclass overrides what differs. A spec that
    derives from only some roles is refused by name by the engines that ask the others.

    Every method takes the layer (called in its model) first. Types are NumPy ``(k, i, f)`` tuples, each array shaped
    like one input's or the output's features; ``None`` stands for a float (unquantized or unknown) value.
    """


class OwnTypes(LayerSpec):
    """A layer whose output types are its own (an H-layer's output quantizer, a declared type)."""

    def output_kif(self, layer, input_kifs):
        return tuple(as_numpy(a) for a in layer.output_kif())
