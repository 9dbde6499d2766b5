"""Layer specs: one registration per layer type (``LayerSpec``, ``register``, ``spec_of``; see ``hgq.specs.registry``
and docs/architecture.md). ``import hgq`` registers the specs of every layer type hgq knows (``hgq.specs.builtin``).

The words a spec answers in live here too, below the engines that ask (the cost model re-exports them):
``kernel_view`` (``KernelView``), ``costs`` (``LayerCosts``, ``kernel_costs``, ``product_costs``) and
``estimates`` (LUT, DSP and latency formulas)."""

from .registry import LayerSpec, UnsupportedLayerError, find_spec, register, registered_types, require_specs, spec_of

__all__ = ["LayerSpec", "UnsupportedLayerError", "find_spec", "register", "registered_types", "require_specs",
           "spec_of"]
