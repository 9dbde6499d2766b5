"""JAX: float64 exists only in 64-bit mode. Replica reductions: none yet (one device)."""

from .generic import max_over_replicas, min_over_replicas  # noqa: F401  (same on JAX for now)


def float64_is_exact():
    import jax

    return bool(jax.config.jax_enable_x64)
