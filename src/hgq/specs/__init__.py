"""The spec API that the engines ask and that users register a spec of their own layer type with: ``LayerSpec``,
``register``, ``spec_of`` and the rest of ``hgq.families.registry``, re-exported. A spec plays roles (``ROLES``:
``TypeRule``, ``CostRule``, ``ProxyRule``, ``Hls4mlRule``, ``QuantizeRule``, ``PruningRule``), each asked by one
engine; ``LayerSpec`` plays them all (docs/architecture.md). The specs of hgq's layers live with their layers, in each
family's package (``hgq.families.<family>.spec``), and are registered by being defined: ``import hgq`` imports every
family (through ``hgq.layers``). The words a spec answers in live in ``hgq.families`` too (``kernel_view``,
``costs``, ``estimates``); the cost model re-exports them."""

from ..families.registry import (ROLES, CostRule, Hls4mlRule, LayerSpec, ProxyRule, PruningRule, QuantizeRule, TypeRule,
                                 UnsupportedLayerError, find_spec, register, registered_types, require_specs, spec_of)

__all__ = ["ROLES", "CostRule", "Hls4mlRule", "LayerSpec", "ProxyRule", "PruningRule", "QuantizeRule", "TypeRule",
           "UnsupportedLayerError", "find_spec", "register", "registered_types", "require_specs", "spec_of"]
