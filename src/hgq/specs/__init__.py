"""The spec API: ``LayerSpec``, ``register``, ``spec_of`` and the rest of the registry that the engines ask, re-exported
from ``hgq.families.registry`` (see docs/architecture.md); register a spec of your own layer type with them. The
specs of hgq's layers live with their layers, in each family's package (``hgq.families.<family>.spec``), and are
registered by being defined: ``import hgq`` imports every family (through ``hgq.layers``). The words a spec answers
in live in ``hgq.families`` too (``kernel_view``, ``costs``, ``estimates``); the cost model re-exports them."""

from ..families.registry import (LayerSpec, UnsupportedLayerError, find_spec, register, registered_types,
                                 require_specs, spec_of)

__all__ = ["LayerSpec", "UnsupportedLayerError", "find_spec", "register", "registered_types", "require_specs",
           "spec_of"]
