"""What the optimization needs to know of each layer: its shapes, the structure to optimize, its hls4ml settings,
and, from the cost model (``hgq.cost``), its multiplications and for hgq's H-layers their bit widths. A layer is
optimizable when its spec gives it a kernel (``hgq.cost.kernel_views``)."""

import numpy as np
from hls4ml.backends.fpga.fpga_backend import FPGABackend
from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType

from .. import graph
from ..cost import kernel_views, weight_bops
from ..families.kernel.mixin import QuantizedKernelMixin
from ..quantizer.types import as_numpy
from ..specs import PruningRule, find_spec
from .config import SUPPORTED_STRUCTURES


class hls4mlAttributes:  # hls4ml's name
    """hls4ml settings of one layer.

    Args:
        n_in, n_out: rows and columns of the layer's matrix multiplication.
        io_type: ``'io_parallel'`` or ``'io_stream'``.
        strategy: ``'Latency'`` or ``'Resource'`` (any case).
        weight_precision, output_precision: hls4ml ``FixedPrecisionType`` or ``IntegerPrecisionType``.
        reuse_factor: the layer's reuse factor.
        parallelization_factor: output positions a convolution computes at once.
    """

    def __init__(self, n_in, n_out, io_type, strategy, weight_precision, output_precision, reuse_factor,
                 parallelization_factor=1):
        for what, p in (("weight", weight_precision), ("output", output_precision)):
            if not isinstance(p, (FixedPrecisionType, IntegerPrecisionType)):
                raise TypeError(f"{what} precision must be an hls4ml fixed or integer type, got {p!r}")
        if str(strategy).lower() not in ("latency", "resource"):
            raise ValueError(f"unknown hls4ml strategy {strategy!r}; use 'Latency' or 'Resource'")
        if io_type not in ("io_parallel", "io_stream"):
            raise ValueError(f"unknown hls4ml IOType {io_type!r}; use 'io_parallel' or 'io_stream'")
        if int(reuse_factor) < 1:
            raise ValueError(f"reuse factor must be a positive integer, got {reuse_factor!r}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.io_type, self.strategy = io_type, strategy
        self.weight_precision, self.output_precision = weight_precision, output_precision
        self.reuse_factor = int(reuse_factor)
        self.parallelization_factor = int(parallelization_factor)


class OptimizationAttributes:
    """How a layer is optimized.

    Args:
        structure_type: a ``SUPPORTED_STRUCTURES`` member.
        pruning: whether groups may be pruned (set to zero).
        weight_sharing: whether groups may be replaced by their mean.
        block_shape: block shape for ``BLOCK``.
        pattern_offset: for ``PATTERN``, the number of patterns (multipliers), ``|W| / reuse_factor``.
        consecutive_patterns: for ``PATTERN``, how many consecutive patterns form one group.
    """

    def __init__(self, structure_type=SUPPORTED_STRUCTURES.UNSTRUCTURED, pruning=False, weight_sharing=False,
                 block_shape=(1, 1), pattern_offset=1, consecutive_patterns=1):
        if not isinstance(structure_type, SUPPORTED_STRUCTURES):
            raise TypeError(f"unknown structure type {structure_type!r}; use a SUPPORTED_STRUCTURES member")
        self.structure_type, self.pruning, self.weight_sharing = structure_type, pruning, weight_sharing
        self.block_shape, self.pattern_offset = block_shape, pattern_offset
        self.consecutive_patterns = consecutive_patterns


class LayerAttributes:
    """What the optimization knows of one layer.

    Args:
        name: layer name.
        layer_type: the layer's class.
        inbound_layers: names of the layers that feed it.
        weight_shape: kernel shape (``()`` without weights).
        input_shape, output_shape: shapes without the batch axis.
        optimizable: whether it is optimized (set by the loop from the objective).
        optimization_attributes: an ``OptimizationAttributes``.
        args: anything else: for a layer with a kernel ``'multiplications'`` (``(n_in, n_out)``),
            ``'output_positions'``, ``'macs'`` and ``'pruning_structures'`` (see ``kernel_args``);
            ``'hls4ml_attributes'`` (an ``hls4mlAttributes``); for H-layers ``'weight_bits'``, ``'input_bits'`` and
            ``'weight_bops'`` (NumPy arrays; see ``hgq_bit_attributes``).
    """

    def __init__(self, name, layer_type, inbound_layers, weight_shape, input_shape, output_shape, optimizable,
                 optimization_attributes, args):
        self.name, self.layer_type, self.inbound_layers = name, layer_type, inbound_layers
        self.weight_shape, self.input_shape, self.output_shape = weight_shape, input_shape, output_shape
        self.optimizable, self.optimization_attributes, self.args = optimizable, optimization_attributes, args

    def update_args(self, updates):
        self.args.update(updates)

    def __str__(self):
        return (f"name: {self.name}, layer_type: {self.layer_type.__name__}, inbound_layers: {self.inbound_layers}, "
                f"weight_shape: {self.weight_shape}, input_shape: {self.input_shape}, "
                f"output_shape: {self.output_shape}, optimizable: {self.optimizable}, args: {sorted(self.args)}")


def kernel_of(layer):
    """The kernel (``hgq.cost.KernelView``) of ``layer`` as its spec gives it, ``None`` for a layer that does not
    multiply; a layer of several kernels is refused by name."""
    views = kernel_views(layer)
    if len(views) > 1:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) has {len(views)} kernels; the optimization "
                         "prunes layers of one kernel")
    return views[0] if views else None


def kernel_args(layer):
    """What the objectives read of a layer's kernel, from the cost model: ``'multiplications'`` (hls4ml's
    ``(n_in, n_out)``, ``KernelView.multiplications``), ``'output_positions'``, ``'macs'`` (multiplications of one
    inference) and the spec's ``'pruning_structures'``; ``{}`` for a layer without a kernel."""
    view = kernel_of(layer)
    if view is None:
        return {}
    return {"multiplications": view.multiplications(), "output_positions": view.output_positions(),
            "macs": view.macs(), "pruning_structures": tuple(find_spec(layer, PruningRule).pruning_structures)}


def hgq_bit_attributes(layer):
    """For an H kernel layer: ``{'weight_bits', 'input_bits', 'weight_bops'}`` (NumPy; ``weight_bops`` shaped like
    the kernel, from ``hgq.cost.weight_bops``), or ``{}`` for other layers or while the input widths are unknown
    (a layer whose input is not quantized)."""
    if not isinstance(layer, QuantizedKernelMixin):
        return {}
    try:
        in_bits = as_numpy(layer.input_bits())
    except ValueError:  # no quantized input: BOPs unknown, the layer is simply not BOPs-optimizable
        return {}
    return {"weight_bits": as_numpy(layer.weight_bits()), "input_bits": in_bits,
            "weight_bops": np.rint(weight_bops(layer, in_bits)).astype(np.int64)}


def get_attributes_from_keras_model(model):
    """``{layer path: LayerAttributes}`` of every layer of a Keras model (input layers left out; layers of nested
    models under ``outer/inner`` paths, ``hgq.graph.flat_layers``). hls4ml settings come later
    (``get_attributes_from_keras_model_and_hls4ml_config``); the structure comes from the objective.

    ``weight_shape`` is the shape of the kernel that the layer's spec gives (``()`` for a layer without one: hls4ml
    took any layer's first weight; an H-layer's first weight may be a quantizer's bit widths), and ``args`` holds
    its ``kernel_args``. For H kernel layers ``args`` also holds the bit widths read through ``hgq.cost`` at this
    moment (widths change while training: call again to refresh them).
    """
    attributes = {}
    for path, layer in graph.flat_layers(model):
        view = kernel_of(layer)
        weight_shape = tuple(view.variable.shape) if view is not None else ()
        in_shapes, out_shapes = graph.input_shapes(layer), graph.output_shapes(layer)
        attributes[path] = LayerAttributes(
            path, type(layer), [producer.name for producer in graph.input_layers(layer)], weight_shape,
            tuple(in_shapes[0][1:]) if in_shapes else (), tuple(out_shapes[0][1:]) if out_shapes else (),
            False, OptimizationAttributes(), {**kernel_args(layer), **hgq_bit_attributes(layer)})
    return attributes


def _precision(value, name, what, fallback):
    """An hls4ml precision from a config string; ``'auto'`` (hls4ml infers it) becomes ``fallback``."""
    precision = FPGABackend.convert_precision_string(value) if isinstance(value, str) else value
    if not isinstance(precision, (FixedPrecisionType, IntegerPrecisionType)):
        if fallback is None:
            raise ValueError(f"layer {name!r}: {what} precision {value!r} is not a fixed-point type and there is "
                             "no default to use; set it in the hls4ml config")
        return fallback
    return precision


def _check_config(config):
    hint = ("pass the hls4ml config itself: hls4ml.utils.config_from_keras_model(model, granularity='name', ...) "
            "with config['IOType'] ('io_parallel' or 'io_stream') and config['Model']['Strategy'] set")
    if not isinstance(config, dict) or any(isinstance(v, LayerAttributes) for v in config.values()):
        raise ValueError(f"expected an hls4ml config dict, got {type(config).__name__} of layer attributes; {hint}")
    missing = [key for key, ok in (("IOType", "IOType" in config),
                                   ("Model", isinstance(config.get("Model"), dict)),
                                   ("Model.Strategy", "Strategy" in config.get("Model", {}))) if not ok]
    if missing:
        raise ValueError(f"hls4ml config lacks {', '.join(missing)}; {hint}")


def get_attributes_from_keras_model_and_hls4ml_config(model, config):
    """``get_attributes_from_keras_model`` plus, for each layer with a kernel, ``args['hls4ml_attributes']``: reuse
    factor, strategy, parallelization factor and precisions from an hls4ml config (``granularity='name'``; a layer
    of a nested model is looked up by its path, then by its name), and the multiplication size ``(n_in, n_out)``
    of the cost model (``args['multiplications']``).

    A layer precision ``'auto'`` falls back to ``Model.Precision``; for H-layers the weight precision is the
    widest weight's width instead (what the exported proxy model gives hls4ml). hls4ml cannot read an H-model
    itself: build the config from its proxy, ``config_from_keras_model(to_proxy_model(model), granularity='name')``
    (the proxy keeps the layer names).

    Raises:
        ValueError: ``config`` is not an hls4ml config with ``IOType`` and ``Model.Strategy``.
    """
    _check_config(config)
    attributes = get_attributes_from_keras_model(model)
    model_cfg = config["Model"]
    default = model_cfg.get("Precision", "fixed<16,6>")
    default = default.get("default", "fixed<16,6>") if isinstance(default, dict) else default
    default = _precision(default, "Model", "default", None)
    layer_cfgs = config.get("LayerName", {})
    for name, attrs in attributes.items():
        if "multiplications" not in attrs.args:
            continue
        cfg = layer_cfgs.get(name, layer_cfgs.get(name.rsplit("/", 1)[-1], {}))
        precision = cfg.get("Precision", {})
        precision = precision if isinstance(precision, dict) else {"weight": precision, "result": precision}
        weight_default = default
        if "weight_bits" in attrs.args:
            weight_default = FixedPrecisionType(width=max(int(np.max(attrs.args["weight_bits"])), 1), integer=1)
        n_in, n_out = attrs.args["multiplications"]
        attrs.update_args({"hls4ml_attributes": hls4mlAttributes(
            n_in, n_out, config["IOType"], cfg.get("Strategy", model_cfg["Strategy"]),
            _precision(precision.get("weight", "auto"), name, "weight", weight_default),
            _precision(precision.get("result", "auto"), name, "result", default),
            cfg.get("ReuseFactor", model_cfg.get("ReuseFactor", 1)), cfg.get("ParallelizationFactor", 1))})
    return attributes
