"""What every layer family builds on, and the families that live in one package of their own.

This package's modules: ``hlayer`` (``HLayer`` and the protocols of a layer's types), ``registry`` (``LayerSpec``,
``register``, ``spec_of``: what the engines ask), the words a spec answers in (``kernel_view``, ``costs``,
``estimates``) and ``hls4ml_handlers`` (the registry of hls4ml handlers of the proxy's own layers). Its
subpackages are families, each holding its H-layer, proxy layer, specs, tables and hls4ml handler (``softmax``);
see docs/architecture.md."""
