"""Layer specs of the families not yet in a package of their own, one module per family, and the spec API the
engines ask (``LayerSpec``, ``register``, ``spec_of``, re-exported from ``hgq.families.registry``; see
docs/architecture.md). ``import hgq`` registers every spec: these through ``hgq.specs.builtin``, a family package's
(``hgq.families.softmax``) by importing it. The words a spec answers in live below, in ``hgq.families``
(``kernel_view``, ``costs``, ``estimates``); the cost model re-exports them."""


from ..families.registry import (LayerSpec, UnsupportedLayerError, find_spec, register, registered_types,
                                 require_specs, spec_of)

__all__ = ["LayerSpec", "UnsupportedLayerError", "find_spec", "register", "registered_types", "require_specs",
           "spec_of"]
