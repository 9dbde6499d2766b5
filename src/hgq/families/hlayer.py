"""Shared machinery of the H-layers: output quantizer, ``beta``, BOPs loss, input bit widths."""

import keras
import numpy as np
from keras import ops

from .. import graph
from ..quantizer import Quantizer
from ..quantizer import config as qconfig
from ..quantizer import fixed_point as fxp
from ..quantizer.quantizer import ExactDType


class ReadsInputTypes:
    """Mixin of layers that need the fixed-point types of their inputs (H-layers and P-layers): it finds the
    layers that feed them in the model graph (``hgq.graph``), or, for a part of a composite layer (attention), where
    the composite layer says (``wire``)."""

    def wire(self, inputs):
        """Declare the inputs of a part of a composite layer, whose calls are not in the model's graph: ``inputs()``
        returns ``[(producer layer, input shape with the batch axis), ...]`` (called when they are needed)."""
        self._wired_inputs = inputs

    def input_layers(self):
        """The layers that feed this one, in input order (see ``hgq.graph.input_layers``)."""
        wired = getattr(self, "_wired_inputs", None)
        return [producer for producer, _ in wired()] if wired else graph.input_layers(self)

    def input_shapes(self):
        """The shapes (batch axis included) of the inputs of the layer's call."""
        wired = getattr(self, "_wired_inputs", None)
        return [tuple(shape) for _, shape in wired()] if wired else graph.input_shapes(self)

    def quantized_input_layers(self):
        """``input_layers()``, after checking that there are some and that each reports its output's types."""
        layers = self.input_layers()
        if not layers:
            raise ValueError(f"{type(self).__name__} {self.name!r} has not been connected in a functional or "
                             "Sequential model, so the bit widths of its input are unknown (a subclassed model's "
                             "call method is no graph hgq can read): build the model with the functional API or as "
                             "a keras.Sequential")
        for producer in layers:
            if not isinstance(producer, QuantizedOutput):
                raise ValueError(f"{type(self).__name__} {self.name!r} receives an unquantized input from "
                                 f"{type(producer).__name__} {producer.name!r}; put an HQuantize or a Signature "
                                 "before it")
        return layers

    def input_feature_shapes(self):
        """``(1, *features)`` of each input of the layer's call."""
        return [(1, *shape[1:]) for shape in self.input_shapes()]

    def input_types(self):
        """``(k, i, f)`` of each input as its producer reports it (float64 NumPy, each shaped ``(1, *features)``)."""
        return [tuple(np.broadcast_to(np.asarray(ops.convert_to_numpy(a), np.float64), shape)
                      for a in producer.output_kif())
                for producer, shape in zip(self.quantized_input_layers(), self.input_feature_shapes())]


class QuantizedOutput:
    """Protocol of hgq layers whose output is quantized: they report its ``(k, i, f)``."""

    def output_kif(self):
        raise NotImplementedError

    def output_bits(self):
        """Total bit width of each output element (override for a cheaper computation)."""
        return fxp.total_bits(self.output_kif())


class BetaWeight(keras.layers.Layer):
    """Holds a layer's ``beta`` as a non-trainable variable, saved like any sub-layer's weights."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = self.add_weight(name="beta", shape=(), initializer=keras.initializers.Constant(float(value)),
                                     trainable=False)
        self.built = True


class HLayer(ExactDType, ReadsInputTypes, QuantizedOutput, keras.layers.Layer):
    """Base of the H-layers: owns the output quantizer ``paq`` and ``beta``, and adds ``beta * BOPs``
    to the model loss while training. Computes in float32 or float64 under any dtype policy (``ExactDType``).

    Subclasses call ``self.paq`` on their output and implement ``compute_bops`` when they multiply.
    """

    #: Whether the layer multiplies (and so has BOPs).
    multiplies = False

    #: Whether the layer quantizes its output with a quantizer of its own (a composite layer's output is its last
    #: part's, which it exposes as ``paq``).
    has_own_output_quantizer = True
    #: The dtype the output quantizer computes in (``None``: the layer's; a recurrent layer rounds its float64 states).
    paq_dtype = None

    def __init__(self, *args, beta=0.0, paq_conf=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.has_own_output_quantizer:
            self.paq = Quantizer(paq_conf, kind="activation", bias_absorbs_rounding=self.bias_absorbs_rounding(),
                                 owner=self.name, name=f"{self.name}_paq", dtype=self.paq_dtype)
        self.beta_weight = BetaWeight(beta, name=f"{self.name}_beta")

    def bias_absorbs_rounding(self):
        """Whether a bias of this layer absorbs the half-step offset of rounding half up (see
        ``fixed_point.training_rounding``); layers without a bias floor under ``rnd_strategy="auto"``."""
        return False

    @property
    def paq_conf(self):
        """The full config of the output quantizer."""
        return self.paq.conf

    @property
    def beta(self):
        """Weight of this layer's BOPs in the loss (changeable while training)."""
        return float(ops.convert_to_numpy(self.beta_weight.value))

    @beta.setter
    def beta(self, value):
        self.beta_weight.value.assign(float(value))
        for part in self.parts():
            part.beta = value

    def parts(self):
        """The H-layers a composite layer (attention) is made of; none for the others."""
        return []

    def input_bits(self, index=0):
        """Total bit width of each element of input ``index``, shaped ``(1, *its features)``."""
        bits = self.quantized_input_layers()[index].output_bits()
        return ops.broadcast_to(bits, self.input_feature_shapes()[index])

    def output_kif(self):
        return self.paq.kif()

    def output_bits(self):
        return self.paq.bits()

    def compute_bops(self, dtype="float32"):
        """BOPs of this layer as a scalar tensor of ``dtype`` (0 for layers that do not multiply)."""
        return ops.zeros((), dtype=dtype)

    def bops(self):
        """Exact BOPs of this layer as a Python float (computed in float64)."""
        return float(ops.convert_to_numpy(self.compute_bops("float64")))

    def add_bops_loss(self, training, **kwargs):
        """Add ``beta * BOPs`` to the layer's losses while training (``kwargs`` go to ``compute_bops``)."""
        if training and self.multiplies:
            self.add_loss(self.beta_weight.value * self.compute_bops("float32", **kwargs))

    def quantizers(self):
        """This layer's quantizers."""
        return [self.paq]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(beta=self.beta, paq_conf=qconfig.serialize(self.paq_conf))
        return cfg


class CompositeHLayer(HLayer):
    """An H-layer made of H-layer parts (attention, separable convolutions), built in its ``build``: its BOPs and
    quantizers are its parts', its output quantizer its last part's. The subclass keeps the parts' quantizer options
    (``kq_conf`` and ``paq_conf``, given to ``__init__``) and lists the built parts in computation order
    (``parts``)."""

    multiplies = True
    has_own_output_quantizer = False

    def __init__(self, beta=0.0, kq_conf=None, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)
        self.kq_conf_, self.paq_conf_ = kq_conf, paq_conf

    @property
    def paq(self):
        return self.parts()[-1].paq

    def compute_bops(self, dtype="float32"):
        return sum((part.compute_bops(dtype) for part in self.parts()), ops.zeros((), dtype=dtype))

    def quantizers(self):
        return [q for part in self.parts() for q in part.quantizers()]

    def get_config(self):
        cfg = keras.layers.Layer.get_config(self)  # HLayer's reads the output quantizer, a part built later
        cfg.update(beta=self.beta, kq_conf=qconfig.serialize(self.kq_conf_), paq_conf=qconfig.serialize(self.paq_conf_))
        return cfg
