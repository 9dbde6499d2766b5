"""hgq.optimization.knapsack against brute force."""

import itertools

import numpy as np
import pytest

from hgq.optimization.knapsack import IMPLEMENTATIONS, solve_knapsack

pytestmark = pytest.mark.once  # NumPy and SciPy only


def brute_force(values, weights, capacity):
    best = 0.0
    for x in itertools.product((0, 1), repeat=len(values)):
        x = np.array(x)
        if np.all(weights @ x <= capacity):
            best = max(best, float(values @ x))
    return best


def random_instance(rng, n, m):
    values = rng.uniform(0, 10, n).round(3)
    weights = rng.integers(0, 20, (m, n))
    capacity = (weights.sum(axis=1) * rng.uniform(0.2, 0.6, m)).astype(int)
    return values, weights, capacity


def check_feasible(values, weights, capacity, value, selected):
    assert len(set(selected)) == len(selected)
    assert np.all(weights[:, selected].sum(axis=1) <= capacity)
    assert value == pytest.approx(values[selected].sum())


@pytest.mark.parametrize("implementation", ["CBC_MIP", "branch_bound"])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_exact_solvers_match_brute_force(implementation, m):
    rng = np.random.default_rng(m)
    for _ in range(15):
        values, weights, capacity = random_instance(rng, int(rng.integers(4, 12)), m)
        value, selected = solve_knapsack(values, weights, capacity, implementation=implementation)
        check_feasible(values, weights, capacity, value, selected)
        assert value == pytest.approx(brute_force(values, weights, capacity))


def test_dynamic_matches_brute_force_in_1d():
    rng = np.random.default_rng(7)
    for _ in range(20):
        values, weights, capacity = random_instance(rng, int(rng.integers(4, 12)), 1)
        value, selected = solve_knapsack(values, weights, capacity, implementation="dynamic")
        check_feasible(values, weights, capacity, value, selected)
        assert value == pytest.approx(brute_force(values, weights, capacity))


def test_exact_solvers_agree_on_a_larger_instance():
    rng = np.random.default_rng(3)
    values, weights, capacity = random_instance(rng, 40, 2)
    mip = solve_knapsack(values, weights, capacity, implementation="CBC_MIP")
    bb = solve_knapsack(values, weights, capacity, implementation="branch_bound")
    greedy = solve_knapsack(values, weights, capacity, implementation="greedy")
    assert bb[0] == pytest.approx(mip[0])
    check_feasible(values, weights, capacity, *greedy)
    assert greedy[0] <= mip[0] + 1e-9


def test_greedy_is_feasible_and_within_half_in_1d():
    rng = np.random.default_rng(11)
    for _ in range(20):
        values, weights, capacity = random_instance(rng, 10, 1)
        value, selected = solve_knapsack(values, weights, capacity, implementation="greedy")
        check_feasible(values, weights, capacity, value, selected)
        assert value >= 0.5 * brute_force(values, weights, capacity) - 1e-9


def test_greedy_never_returns_an_item_that_does_not_fit():
    # hls4ml's misplaced parenthesis returned item 2 (weight 100 > capacity 2) here
    values, weights, capacity = np.array([1.0, 1.0, 10.0]), np.array([[1, 1, 100]]), np.array([2])
    assert solve_knapsack(values, weights, capacity, implementation="greedy") == (2.0, [0, 1])


def test_greedy_takes_the_best_single_item_when_it_is_worth_more():
    values, weights, capacity = np.array([1.0, 9.0]), np.array([[1, 10]]), np.array([10])
    assert solve_knapsack(values, weights, capacity, implementation="greedy") == (9.0, [1])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_shortcuts(implementation):
    values = np.array([0.5, 3.0, 1.0, 2.0])
    assert solve_knapsack(values, np.array([[1, 2, 3, 4]]), np.array([10]), implementation) == (6.5, [0, 1, 2, 3])
    # equal weights per resource: the most valuable items, as many as fit in every resource
    value, selected = solve_knapsack(values, np.array([[2, 2, 2, 2], [1, 1, 1, 1]]), np.array([5, 3]),
                                     implementation)
    assert (value, selected) == (5.0, [1, 3])
    assert solve_knapsack(np.array([]), np.zeros((1, 0)), np.array([3]), implementation) == (0.0, [])


def test_refusals():
    values, weights, capacity = np.array([1.0, 2.0]), np.array([[1, 2], [2, 1]]), np.array([2, 2])
    with pytest.raises(ValueError, match=r"unknown knapsack implementation 'SCIP'.*CBC_MIP"):
        solve_knapsack(values, weights, capacity, implementation="SCIP")
    with pytest.raises(ValueError, match="'dynamic' solves one resource only"):
        solve_knapsack(values, weights, capacity, implementation="dynamic")
    with pytest.raises(ValueError, match="must be integers"):
        solve_knapsack(values, np.array([[1.5, 2.0]]), np.array([2]))
    with pytest.raises(ValueError, match="non-negative"):
        solve_knapsack(np.array([-1.0, 2.0]), np.array([[1, 2]]), np.array([2]))
    with pytest.raises(ValueError, match=r"shape \(resources, items\)"):
        solve_knapsack(values, np.array([[1, 2, 3]]), np.array([2]))


def test_time_limit_still_returns_a_feasible_solution():
    rng = np.random.default_rng(5)
    values, weights, capacity = random_instance(rng, 60, 3)
    value, selected = solve_knapsack(values, weights, capacity, implementation="branch_bound", time_limit=0.05)
    check_feasible(values, weights, capacity, value, selected)
