"""Specs of the element-wise merges: the H-merges (``HAdd``, ``HSubtract``, ``HMultiply``, ``HMaximum``,
``HMinimum``, ``HAverage``) and the plain Keras ``Add``, ``Subtract``, ``Multiply``, ``Maximum``, ``Minimum`` and
``Average`` they export to,
whose output types follow hls4ml's bit-exact rules (``Merge`` in ``hls4ml.model.optimizer.passes.bit_exact``)."""

import dataclasses
import functools
import string

import keras
import numpy as np

from ... import graph
from ...proxy_layers.chain import two_input_chain
from ...proxy_layers.precision import PROXY_DTYPE, refuse_wide_accumulator
from ...proxy_layers.quantize import quantize_output
from ...quantizer.intervals import bounds, einsum_kif, kif_of_interval
from ...quantizer.types import as_numpy, kbi_from_kif, kif_from_kbi, total_bits
from .. import estimates
from ..costs import LayerCosts, product_costs
from ..registry import LayerSpec, OwnTypes, register
from .layers import HAdd, HAverage, HMaximum, HMinimum, HMultiply, HSubtract


def elementwise(ndim):
    """The einsum equation of an element-wise product of two arrays of ``ndim`` axes (``"ab,ab->ab"``)."""
    letters = string.ascii_letters[:ndim]
    return f"{letters},{letters}->{letters}"


def product_chain(kifs):
    """The two-input products of the chain ``((x1·x2)·x3)·…`` given the types of ``x1, x2, …`` (arrays of one
    shape): each step's two factors' types, the left one after the first step being the previous product's type
    as hls4ml derives it (the four corner products on the grid ``2^-(f_a + f_b)``); and the result's type."""
    steps, left = [], kifs[0]
    for right in kifs[1:]:
        steps.append((left, right))
        left = einsum_kif(elementwise(np.ndim(left[0])), left, right)
    return steps, left


def broadcast(kifs):
    """The types ``kifs`` (NumPy), every array broadcast to their common shape."""
    arrays = np.broadcast_arrays(*(np.asarray(a, np.float64) for kif in kifs for a in kif))
    return [tuple(arrays[3 * n:3 * n + 3]) for n in range(len(kifs))]


class Reduction(LayerSpec):
    """An element-wise reduction of its inputs: a binary tree of ``ceil(log2 n)`` levels."""

    def latency(self, layer, input_kifs):
        return estimates.reduction_latency(len(input_kifs))


class MergeSpec(Reduction):
    """A plain Keras merge: its output type is hls4ml's rule (``rule``) on its inputs' types, unknown when one
    input is a float."""

    def output_kif(self, layer, input_kifs):
        if not input_kifs or any(kif is None for kif in input_kifs):
            return None
        return self.rule(broadcast(input_kifs))

    def rule(self, kifs):
        """The output's type given the inputs' (NumPy arrays of one shape)."""
        raise NotImplementedError

    def quantized(self, layer, args, kwargs, options):
        h_class = {keras.layers.Add: HAdd, keras.layers.Subtract: HSubtract, keras.layers.Multiply: HMultiply,
                   keras.layers.Maximum: HMaximum, keras.layers.Minimum: HMinimum,
                   keras.layers.Average: HAverage}[type(layer)]
        return h_class(name=layer.name, **options.h_kwargs(kernel=False))(args[0])

    def hls4ml_refusal(self, layer):
        n = len(graph.input_shapes(layer))
        return None if n == 2 else (f"it has {n} inputs, and hls4ml's merge layers take two: chain two-input "
                                    "layers (to_proxy_model exports the H-merges so)")


@register(keras.layers.Add)
class AddSpec(MergeSpec):
    """hls4ml's rule: the sum of the inputs' intervals, on the finest of their grids."""

    def rule(self, kifs):
        low, high, f = zip(*(bounds(kif) for kif in kifs))
        return kif_of_interval(sum(low), sum(high), functools.reduce(np.maximum, f))


@register(keras.layers.Subtract)
class SubtractSpec(MergeSpec):
    """hls4ml's rule: ``a - b`` lies in ``[low_a - high_b, high_a - low_b]``, on the finer of the two grids."""

    def rule(self, kifs):
        (low_a, high_a, f_a), (low_b, high_b, f_b) = (bounds(kif) for kif in kifs)
        return kif_of_interval(low_a - high_b, high_a - low_b, np.maximum(f_a, f_b))


@register(keras.layers.Average)
class AverageSpec(AddSpec):
    """hls4ml's rule for two inputs: the sum's type with one more fractional bit and one integer bit less."""

    def rule(self, kifs):
        k, i, f = super().rule(kifs)
        return k, i - 1, f + 1

    def hls4ml_refusal(self, layer):
        n = len(graph.input_shapes(layer))
        return None if n == 2 else (f"it has {n} inputs, and hls4ml's Average takes two (a mean of more is not a "
                                    "chain of two-input means)")


@register(keras.layers.Maximum, keras.layers.Minimum)
class ExtremumSpec(MergeSpec):
    """hls4ml's rule for both: the element-wise maximum of the inputs' ``k``, ``i`` and ``f`` (a zero-width input
    counting ``(0, 0, 0)``, as hls4ml stores it). A type that holds every input holds their maximum and minimum: a
    correct type, though not always the smallest (the maximum of a signed and an unsigned input is never negative,
    yet keeps the sign bit)."""

    def rule(self, kifs):
        stored = [kif_from_kbi(kbi_from_kif(kif)) for kif in kifs]
        return tuple(functools.reduce(np.maximum, parts) for parts in zip(*stored))


def _chain_costs(parts):
    """One ``LayerCosts`` of products computed one after the other: sums (the accumulator: the widest), ``None``
    where a part's value is unknown."""
    def total(field):
        values = [getattr(part, field.name) for part in parts]
        return None if None in values else (max if field.name == "accumulator_bits" else sum)(values)

    return LayerCosts(**{field.name: total(field) for field in dataclasses.fields(LayerCosts)})


@register(keras.layers.Multiply)
class MultiplySpec(MergeSpec):
    """hls4ml's rule: the product of the inputs' intervals (four corner products) on the grid ``2^-(f_a + f_b)``;
    ``n`` inputs as the chain ``((x1·x2)·x3)·…``. Each product multiplies two activations: BOPs
    ``Σ bits_left · bits_right`` per step (``product_chain``), MACs one per step and output element, LUT/DSP as for a
    kernel's products, latency that of a product (multiplier and output stage) per step."""

    def rule(self, kifs):
        return product_chain(kifs)[1]

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        if len(input_kifs) < 2:
            return super().costs(layer, input_kifs, parallel_factor, dsp_min_bits)
        shape = tuple(np.broadcast_shapes(*(tuple(s[1:]) for s in graph.input_shapes(layer))))
        if any(kif is None for kif in input_kifs):
            steps = [(None, None)] * (len(input_kifs) - 1)
        else:
            steps = product_chain(broadcast(input_kifs))[0]
        return _chain_costs([product_costs(elementwise(len(shape) + 1), list(step), [shape, shape], None, dsp_min_bits)
                             for step in steps])


#: The plain Keras merges the H-merges subclass and export to.
PLAIN_MERGES = (keras.layers.Add, keras.layers.Subtract, keras.layers.Multiply, keras.layers.Maximum,
                keras.layers.Minimum, keras.layers.Average)


@register(HAdd, HSubtract, HMaximum, HMinimum, HAverage)
class HMergeSpec(OwnTypes, Reduction):
    """An H-merge: its own output types; exported to the plain Keras merge it subclasses, then its output
    quantizer."""

    def convert(self, layer, inputs, ctx):
        """More than two inputs become a chain of two-input merges (hls4ml's merges take two), named ``<name>``,
        ``<name>_1``, ...; then the output quantizer."""
        layer.quantized_input_layers()  # every input must be quantized (names the layers otherwise)
        plain = next(cls for cls in PLAIN_MERGES if isinstance(layer, cls))
        y = two_input_chain(lambda name: plain(name=name, dtype=PROXY_DTYPE), layer.name, list(inputs))
        return quantize_output(layer, y, ctx)


@register(HMultiply)
class HMultiplySpec(HMergeSpec, MultiplySpec):
    def convert(self, layer, inputs, ctx):
        """As every H-merge; a layer whose products float64 cannot hold exactly (wider than 53 bits) is refused."""
        steps, out = product_chain([tuple(as_numpy(a) for a in kif) for kif in layer.input_kifs("float64")])
        products = [left for left, _ in steps[1:]] + [out]
        refuse_wide_accumulator(layer, int(max(np.max(total_bits(kif)) for kif in products)), ctx)
        return super().convert(layer, inputs, ctx)
