"""Layer specs: one registration per layer type (``LayerSpec``, ``register``, ``spec_of``; see ``hgq.specs.registry``
and docs/architecture.md). ``import hgq`` registers the specs of every layer type hgq knows (``hgq.specs.builtin``)."""

from .registry import LayerSpec, UnsupportedLayerError, find_spec, register, registered_types, require_specs, spec_of

__all__ = ["LayerSpec", "UnsupportedLayerError", "find_spec", "register", "registered_types", "require_specs",
           "spec_of"]
