"""Importing this module registers the specs of the layer types still described in ``hgq.specs`` (``import hgq``
does). A family with a package of its own (``hgq.families.softmax``, ``hgq.families.quantize``,
``hgq.families.activation``, ``hgq.families.kernel``,
``hgq.families.normalization``,
``hgq.families.merge``,
``hgq.families.einsum``) registers its specs
by being defined, and is imported through the layer package that re-exports its H-layer (``hgq.layers``)."""

from . import attention, passthrough  # noqa: F401
