"""BOPs pruning at hls4ml's documented example settings holds the accuracy while it lowers the measured BOPs (both
backends: the loop trains). The settings are those of ``benchmarks/bops_pruning.py``, run from there."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

from bops_pruning import digits, run  # noqa: E402


def test_bops_pruning_at_hls4ml_example_settings_holds_accuracy():
    """PolynomialScheduler(5, final_sparsity=0.5), 10 epochs a step, rtol=0.975, Adam 1e-3, tuner="Manual", on a
    digits H-model (64-32-32-10, beta=1e-6, 30 epochs): the measured BOPs fall to at most 0.6x with the test accuracy
    within the loop's own tolerance (rtol times the accuracy before; it accepts a step on 257 validation samples) less
    one point for the 540 test samples' sampling (JAX, seed 0: 0.946 -> 0.924). Before a weight's value scaled with
    its BOPs, the knapsack removed the widest weights first and every step was rejected (0.98x, the unpruned model)."""
    before, after, accuracy, _ = run(seed=0, hold=False, data=digits())
    assert after <= 0.6 * before, (after, before)
    assert accuracy[1] >= 0.975 * accuracy[0] - 0.01, accuracy
