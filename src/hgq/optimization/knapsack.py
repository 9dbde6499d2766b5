"""The 0/1 knapsack problem that picks which weight groups to keep.

For N items and M resources: maximize ``values @ x`` subject to ``weights @ x <= capacity``, ``x`` in {0, 1}^N.
"""

import time

import numpy as np

IMPLEMENTATIONS = ("dynamic", "greedy", "branch_bound", "CBC_MIP")

#: Largest dynamic-programming table (items x (capacity + 1)) that ``'dynamic'`` builds.
MAX_DP_CELLS = 50_000_000


def solve_knapsack(values, weights, capacity, implementation="CBC_MIP", time_limit=None, scaling_factor=None):
    """Solve the (multi-resource) 0/1 knapsack problem.

    Args:
        values: shape ``(N,)``, non-negative value of each item.
        weights: shape ``(M, N)``, non-negative integer weight of each item for each resource (a 1-D array is one
            resource).
        capacity: shape ``(M,)``, integer capacity of each resource.
        implementation: ``'CBC_MIP'`` (exact, a mixed-integer program solved by SciPy's HiGHS ``milp``; the name is
            hls4ml's), ``'branch_bound'`` (exact, our branch and bound), ``'dynamic'`` (exact, one resource only) or
            ``'greedy'`` (value per normalized weight; fast, not optimal).
        time_limit: seconds after which ``'CBC_MIP'`` and ``'branch_bound'`` return the best solution found.
        scaling_factor: accepted for compatibility with hls4ml (which scaled values to integers); unused.

    Returns:
        ``(optimal_value, selected_indices)``: the total value and the sorted indices of the chosen items.

    Example:
        >>> solve_knapsack(np.array([3., 4., 5.]), np.array([[2, 3, 4]]), np.array([5]))
        (7.0, [0, 1])
    """
    del scaling_factor
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"unknown knapsack implementation {implementation!r}; use one of {IMPLEMENTATIONS}")
    values, weights, capacity = _check(values, weights, capacity)
    n = values.shape[0]
    if n == 0:
        return 0.0, []
    if np.all(weights.sum(axis=1) <= capacity):  # everything fits
        return float(values.sum()), list(range(n))
    if np.all(weights == weights[:, :1]):  # equal weights per resource: the k most valuable
        return _equal_weights(values, weights, capacity)
    start = time.time()
    if implementation == "dynamic":
        if weights.shape[0] != 1:
            raise ValueError(f"knapsack 'dynamic' solves one resource only, got {weights.shape[0]}; "
                             "use 'CBC_MIP' or 'branch_bound'")
        selected = _dynamic(values, weights[0], int(capacity[0]))
    elif implementation == "greedy":
        selected = _greedy(values, weights, capacity)
    elif implementation == "branch_bound":
        selected = _branch_and_bound(values, weights, capacity, _deadline(start, time_limit))
    else:
        selected = _milp(values, weights, capacity, time_limit)
    selected = sorted(int(i) for i in selected)
    return float(values[selected].sum()), selected


def _check(values, weights, capacity):
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    weights = weights[None] if weights.ndim == 1 else weights
    capacity = np.atleast_1d(np.asarray(capacity, dtype=np.float64))
    if values.ndim != 1:
        raise ValueError(f"knapsack values must be one-dimensional (one value per item), got shape {values.shape}")
    if weights.ndim != 2 or weights.shape[1] != values.shape[0]:
        raise ValueError(f"knapsack weights must have shape (resources, items) = (M, {values.shape[0]}), "
                         f"got {weights.shape}")
    if capacity.shape != (weights.shape[0],):
        raise ValueError(f"knapsack capacity must have one entry per resource ({weights.shape[0]}), "
                         f"got shape {capacity.shape}")
    if np.any(values < 0) or np.any(weights < 0) or np.any(capacity < 0):
        raise ValueError("knapsack values, weights and capacities must be non-negative")
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(weights))):
        raise ValueError("knapsack values and weights must be finite")
    if np.any(np.mod(weights, 1) != 0) or np.any(np.mod(capacity, 1) != 0):
        raise ValueError("knapsack weights and capacities must be integers (scale and round them first)")
    return values, weights, capacity


def _deadline(start, time_limit):
    return None if time_limit is None else start + float(time_limit)


def _equal_weights(values, weights, capacity):
    """All items weigh the same in each resource: keep the most valuable ones while they fit."""
    per_item = weights[:, 0]
    fits = [capacity[m] // per_item[m] for m in range(len(per_item)) if per_item[m] > 0]
    k = int(min(fits)) if fits else len(values)
    selected = sorted(int(i) for i in np.argsort(-values, kind="stable")[:k])
    return float(values[selected].sum()), selected


def _dynamic(values, weights, capacity):
    """Exact 1-D dynamic programming over integer capacities, O(N * capacity)."""
    n = len(values)
    if n * (capacity + 1) > MAX_DP_CELLS:
        raise ValueError(f"knapsack 'dynamic' would need a table of {n} x {capacity + 1} cells; "
                         "use 'CBC_MIP' or 'branch_bound'")
    best = np.zeros(capacity + 1)
    take = np.zeros((n, capacity + 1), dtype=bool)
    for i in range(n):
        w = int(weights[i])
        if w > capacity:
            continue
        candidate = np.full(capacity + 1, -np.inf)
        candidate[w:] = best[: capacity + 1 - w] + values[i]
        take[i] = candidate > best
        best = np.maximum(best, candidate)
    selected, c = [], capacity
    for i in range(n - 1, -1, -1):
        if take[i, c]:
            selected.append(i)
            c -= int(weights[i])
    return selected


def _density(values, weights):
    """Value per normalized weight (each resource scaled by its largest weight); weightless items first."""
    scale = weights.max(axis=1, keepdims=True)
    total = (weights / np.where(scale > 0, scale, 1.0)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, values / total, np.inf)


def _greedy(values, weights, capacity):
    """Take items by decreasing density while they fit; return that or the best single item, whichever is more."""
    used = np.zeros_like(capacity)
    selected = []
    for i in np.argsort(-_density(values, weights), kind="stable"):
        if np.all(used + weights[:, i] <= capacity):
            selected.append(i)
            used += weights[:, i]
    fits = np.all(weights <= capacity[:, None], axis=0)
    single = np.where(fits, values, -np.inf)
    best = int(np.argmax(single))
    return [best] if fits[best] and single[best] > values[selected].sum() else selected


def _bound(values, weights, residual, free, orders):
    """Upper bound on the value of the free items within ``residual``: the smallest over resources of the
    fractional (LP) knapsack bound of that resource alone."""
    bound = np.inf
    for m, order in enumerate(orders):
        order = order[free[order]]
        w, v = weights[m, order], values[order]
        cum = np.cumsum(w)
        full = cum <= residual[m]
        value = v[full].sum()
        if not full.all():
            j = int(np.argmin(full))
            value += v[j] * (residual[m] - (cum[j] - w[j])) / w[j]
        bound = min(bound, value)
    return bound


def _branch_and_bound(values, weights, capacity, deadline):
    """Exact depth-first branch and bound: items in decreasing density, 'take' tried first, a node pruned when
    its bound cannot beat the best solution found (started from the greedy one)."""
    n = len(values)
    order = np.argsort(-_density(values, weights), kind="stable")
    with np.errstate(divide="ignore"):
        orders = [np.argsort(-np.where(weights[m] > 0, values / weights[m], np.inf), kind="stable")
                  for m in range(weights.shape[0])]
    best = list(_greedy(values, weights, capacity))
    best_value = values[best].sum()
    free = np.ones(n, dtype=bool)
    # stack of (depth, taken items, value, residual capacity); free items are those at depth >= this one
    stack = [(0, [], 0.0, capacity.copy())]
    while stack:
        if deadline is not None and time.time() > deadline:
            break
        depth, taken, value, residual = stack.pop()
        if value > best_value:
            best, best_value = taken, value
        if depth == n:
            continue
        free[:] = False
        free[order[depth:]] = True
        if value + _bound(values, weights, residual, free, orders) <= best_value + 1e-12:
            continue
        item = order[depth]
        stack.append((depth + 1, taken, value, residual))  # skip (explored second)
        if np.all(weights[:, item] <= residual):
            stack.append((depth + 1, taken + [item], value + values[item], residual - weights[:, item]))
    return best


def _milp(values, weights, capacity, time_limit):
    """Exact mixed-integer program (SciPy's HiGHS), optimality gap 0."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    options = {"mip_rel_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    result = milp(-values, integrality=np.ones_like(values), bounds=Bounds(0, 1),
                  constraints=LinearConstraint(weights, -np.inf, capacity), options=options)
    if result.x is None:
        raise RuntimeError(f"knapsack 'CBC_MIP' (SciPy milp) found no solution: {result.message}")
    return np.flatnonzero(result.x > 0.5)
