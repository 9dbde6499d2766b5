"""Specs of the layers that multiply by a kernel: plain Keras ``Dense``, ``Conv1D``, ``Conv2D`` and ``EinsumDense`` (as
proxy and float models hold them) and their H-layers (``HDense``, ``HConv1D``, ``HConv2D``, ``HEinsumDense`` and the
batch-norm fused versions)."""

import keras
import numpy as np

from ...proxy_layers.precision import PROXY_DTYPE, refuse_wide_accumulator
from ...proxy_layers.quantize import quantize_output
from ...quantizer.intervals import linear_kif
from ...quantizer.types import as_numpy
from ..activation.layer import EXACT_ACTIVATIONS
from ..activation.spec import h_activation
from ..costs import accumulator_bits, kernel_costs
from ..kernel_view import HKernelView, PlainKernelView
from ..registry import LayerSpec, input_shapes, register
from .batchnorm import HConv1DBatchNorm, HConv2DBatchNorm, HDenseBatchNorm, HEinsumDenseBatchNorm
from .conv import HConv1D, HConv2D
from .copy import copy_batchnorm, copy_weight
from .dense import HDense
from .einsum_dense import HEinsumDense
from .einsum_geometry import EinsumGeometry
from .geometry import ConvGeometry, DenseGeometry
from .mixin import check_activation


def quantize_kernel_layer(layer, x, options, h_class, fused_class):
    """``quantize_model``'s H-layer of a float Dense, Conv or EinsumDense ``layer`` on ``x``: ``h_class`` (or, with a
    batch normalization to absorb, ``fused_class``) from the layer's config, its kernel and bias (and the batch
    normalization's variables) copied; an activation other than linear and ReLU as an ``HActivation`` after it."""
    cfg = layer.get_config()
    activation = keras.activations.serialize(keras.activations.get(cfg.pop("activation", None)))
    bn = options.batchnorm
    if bn is not None:
        cfg.update(momentum=bn.momentum, epsilon=bn.epsilon, center=bn.center, scale=bn.scale)
    exact = activation in EXACT_ACTIVATIONS
    h = (h_class if bn is None else fused_class).from_config(
        {**cfg, **options.h_kwargs(), "activation": activation if exact else "linear"})
    y = h(x)
    copy_weight(h.kernel, layer.kernel)
    if layer.bias is not None:
        copy_weight(h.bias, layer.bias)
    if bn is not None:
        copy_batchnorm(h, bn)
    if exact:
        return y
    return h_activation(activation, f"{layer.name}_activation", options)(y)


def with_batch_axis(kif):
    return tuple(np.asarray(a)[None] for a in kif)


def without_batch_axis(kif):
    return tuple(np.asarray(a)[0] for a in kif)


@register(keras.layers.Dense)
class DenseSpec(LayerSpec):
    """``keras.layers.Dense`` on inputs of any rank (the kernel meets the last axis at every position)."""

    output_units_key = "units"
    pruning_structures = ("unstructured", "structured", "pattern", "block")
    reuses_multipliers = False

    def geometry(self, layer):
        return DenseGeometry(input_shapes(layer)[0][1:])

    def kernels(self, layer):
        return [PlainKernelView(layer, self.geometry(layer), self.reuses_multipliers)]

    def output_kif(self, layer, input_kifs):
        activation = layer.get_config().get("activation")
        if input_kifs[0] is None or activation not in EXACT_ACTIVATIONS:
            return None
        kernel, bias, _ = self.kernels(layer)[0].weights()
        k, i, f = linear_kif(self.geometry(layer), without_batch_axis(input_kifs[0]), kernel, bias)
        return with_batch_axis((np.zeros_like(k) if activation == "relu" else k, i, f))

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        return kernel_costs(self.kernels(layer), input_kifs[0] if input_kifs else None, parallel_factor,
                            dsp_min_bits)

    def h_classes(self, layer):
        """``(H-layer class, its batch-norm fused class)`` that ``quantize_model`` makes of ``layer``."""
        return HDense, HDenseBatchNorm

    def quantized(self, layer, args, kwargs, options):
        return quantize_kernel_layer(layer, args[0], options, *self.h_classes(layer))

    def fuses_batchnorm(self, layer):
        return keras.activations.serialize(layer.activation) == "linear"


@register(keras.layers.Conv1D, keras.layers.Conv2D)
class ConvSpec(DenseSpec):
    """``keras.layers.Conv1D``/``Conv2D`` (channels last, no dilation, one group): the firmware reuses its
    multipliers over the output positions, ``parallel_factor`` of them at once."""

    output_units_key = "filters"
    pruning_structures = ("unstructured", "structured", "pattern")
    reuses_multipliers = True

    def geometry(self, layer):
        return ConvGeometry(input_shapes(layer)[0][1:], layer.kernel_size, layer.strides, layer.padding)

    def h_classes(self, layer):
        one = isinstance(layer, keras.layers.Conv1D)
        return (HConv1D, HConv1DBatchNorm) if one else (HConv2D, HConv2DBatchNorm)


@register(keras.layers.EinsumDense)
class EinsumDenseSpec(DenseSpec):
    """``keras.layers.EinsumDense``, any equation: hls4ml builds it with ``io_parallel`` only, not with its Resource
    strategy (hls4ml 1.3 fails with a ``TypeError`` on its reuse factor), and refuses equations that sum a letter of
    one operand only (a direct sum)."""

    output_units_key = None
    pruning_structures = ("unstructured",)
    io_stream = False
    resource = False

    def geometry(self, layer):
        return EinsumGeometry(layer.equation, input_shapes(layer)[0][1:], layer.kernel.shape)

    def h_classes(self, layer):
        return HEinsumDense, HEinsumDenseBatchNorm

    def fuses_batchnorm(self, layer):
        return super().fuses_batchnorm(layer) and layer.bias_axes is not None  # its statistics: the bias's shape

    def hls4ml_refusal(self, layer):
        sums = self.geometry(layer).direct_sums
        return f"its equation {layer.equation!r} sums {', '.join(sums)} in one operand only" if sums else None


class HKernelSpecMixin:
    """What H kernel layers add to their plain layer's spec: quantized weights, their own output types, export."""

    def plain_layer(self, layer, activation, use_bias):
        """The plain Keras layer of the proxy (same geometry, float64, named like ``layer``)."""
        raise NotImplementedError

    def kernels(self, layer):
        return [HKernelView(layer, self.geometry(layer), self.reuses_multipliers)]

    def output_kif(self, layer, input_kifs):
        return tuple(as_numpy(a) for a in layer.output_kif())

    def check_accumulator(self, layer, ctx):
        """Refuse a layer whose sums ``Σ x·w + b`` the proxy's float64 cannot hold exactly."""
        in_kif = layer.input_types()[0]
        refuse_wide_accumulator(layer, max(accumulator_bits(view, in_kif) for view in self.kernels(layer)), ctx)

    def convert(self, layer, x, ctx):
        """The plain layer holding the exported kernel and bias, then the output quantizer."""
        self.check_accumulator(layer, ctx)
        kernel, bias, rounding = layer.exported_kernel_and_bias()
        activation = check_activation(layer.name, layer.activation)
        plain = self.plain_layer(layer, None if activation == "linear" else activation, bias is not None)
        y = plain(x)
        plain.set_weights([kernel] if bias is None else [kernel, bias])
        return quantize_output(layer, y, ctx, rounding, overrides=self.hls_overrides(layer))

    def hls_overrides(self, layer):
        """hls4ml configuration the output quantizer carries for the plain layer."""
        return None


@register(HDense)
class HDenseSpec(HKernelSpecMixin, DenseSpec):
    def plain_layer(self, layer, activation, use_bias):
        return keras.layers.Dense(layer.units, activation=activation, use_bias=use_bias, name=layer.name,
                                  dtype=PROXY_DTYPE)


@register(HEinsumDense)
class HEinsumDenseSpec(HKernelSpecMixin, EinsumDenseSpec):
    def plain_layer(self, layer, activation, use_bias):
        # the equation with any ellipsis spelled out: Keras' EinsumDense infers wrong shapes for one (Keras 3.15)
        g = self.geometry(layer)
        return keras.layers.EinsumDense(f"{g.inp},{g.ker}->{g.out}", g.output_shape, activation=activation,
                                        bias_axes=layer.bias_axes if use_bias else None, name=layer.name,
                                        dtype=PROXY_DTYPE)


@register(HConv1D, HConv2D)
class HConvSpec(HKernelSpecMixin, ConvSpec):
    def plain_layer(self, layer, activation, use_bias):
        plain = keras.layers.Conv1D if isinstance(layer, HConv1D) else keras.layers.Conv2D
        return plain(layer.filters, layer.kernel_size, strides=layer.strides, padding=layer.padding,
                     activation=activation, use_bias=use_bias, name=layer.name, dtype=PROXY_DTYPE)

    def hls_overrides(self, layer):
        # hls4ml reads the firmware parallelism of the convolution from its output quantizer
        return {"layers": {layer.name: {"parallelization_factor": layer.parallel_factor}}}

    def parallel_factor(self, layer):
        return layer.parallel_factor
