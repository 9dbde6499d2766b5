"""The activation family: ``HActivation`` and the activations a layer computes exactly without a table
(``EXACT_ACTIVATIONS``: what a kernel layer can fuse) (``layer``), the proxy's ``UnaryLUT`` (``proxy``), the specs of
``HActivation``, of the float ``Activation``/``ReLU``/``LeakyReLU`` and of ``UnaryLUT``, with ``h_activation``, what
``quantize_model`` makes of a float activation (``spec``), and hls4ml's Keras-3 handler of ``UnaryLUT``
(``hls_handler``). A softmax activation becomes the softmax family's ``HSoftmax``. Importing this package registers
the specs and the handler; ``hgq.layers`` re-exports ``HActivation`` and ``hgq.proxy`` re-exports ``UnaryLUT``.
``functions``: ``ParametricReLU`` and ``ParametricELU``, the element-wise functions of Keras' ``ReLU`` (with options),
``LeakyReLU`` and ``ELU`` layers, for ``HActivation``. ``prelu``: ``HPReLU``, trainable quantized slopes per element
(its spec with the others; its type rule also in hls4ml's bit-exact pass, ``hls_handler``)."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .functions import ParametricELU, ParametricReLU
from .layer import HActivation
from .prelu import HPReLU
from .proxy import UnaryLUT

__all__ = ["HActivation", "HPReLU", "ParametricELU", "ParametricReLU", "UnaryLUT"]
