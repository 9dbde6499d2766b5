"""What every layer family builds on, and the families, one package each.

This package's modules: ``hlayer`` (``HLayer`` and the protocols of a layer's types), ``registry`` (``LayerSpec``,
``register``, ``spec_of``: what the engines ask), the words a spec answers in (``kernel_view``, ``costs``,
``estimates``), what composite layers' specs share (``composite``), ``copy`` (a float layer's weights into the
H-layer ``quantize_model`` makes of it) and ``hls4ml_handlers`` (the registry of hls4ml handlers of the proxy's own
layers and of type rules for hls4ml's bit-exact pass). Its
subpackages are the families, each holding its layers, its proxy layer if any, its specs (those of the float Keras
layers it quantizes included) and its hls4ml handler if any, registered by being defined: ``kernel``,
``normalization``, ``layernorm``, ``recurrent``, ``activation``, ``softmax``, ``merge``, ``einsum``, ``attention``,
``embedding``, ``passthrough``,
``quantize``.
A family may import another one-way (the kernel family's geometries, the softmax family's ``HSoftmax``), never in a
cycle; ``hgq.layers`` imports them all. See docs/architecture.md."""
