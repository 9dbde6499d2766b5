"""hgq.optimization.scheduler: each scheduler's sequence against a hand-written one."""

import pytest

from hgq.optimization.scheduler import BinaryScheduler, ConstantScheduler, PolynomialScheduler

pytestmark = pytest.mark.once  # no Keras


def run(scheduler, calls):
    out = []
    for call in calls:
        updated, sparsity = scheduler.update_step() if call == "u" else scheduler.repair_step()
        assert sparsity == scheduler.get_sparsity()
        out.append((updated, round(sparsity, 10)))
    return out


def test_constant():
    s = ConstantScheduler(0.1, 0.3, update_step=0.05)
    assert s.get_sparsity() == 0.1
    assert run(s, "uuruu") == [(True, 0.15), (True, 0.2), (True, 0.25), (True, 0.3), (False, 0.3)]


def test_constant_defaults_reach_final_sparsity():
    s = ConstantScheduler()
    seq = run(s, "u" * 21)
    assert seq[:3] == [(True, 0.05), (True, 0.1), (True, 0.15)]
    assert seq[19] == (True, 1.0) and seq[20] == (False, 1.0)


def test_binary():
    s = BinaryScheduler(0.0, 1.0, threshold=0.1)
    # 0.5 and 0.75 accepted, 0.75 rejected -> 0.625, accepted -> 0.6875; then 0.75 - 0.6875 < threshold
    assert run(s, "uuruu") == [(True, 0.5), (True, 0.75), (True, 0.625), (True, 0.6875), (False, 0.6875)]
    assert s.lower_bound == 0.6875
    s = BinaryScheduler(0.0, 1.0, threshold=0.1)
    assert run(s, "urrrr") == [(True, 0.5), (True, 0.25), (True, 0.125), (True, 0.0625), (False, 0.0625)]
    assert s.upper_bound == 0.0625
    s = BinaryScheduler(0.5, 0.75, threshold=0.125)
    assert run(s, "uuu") == [(True, 0.625), (True, 0.6875), (False, 0.6875)]


def test_polynomial():
    s = PolynomialScheduler(4, 0.2, 0.8, decay_power=2)
    # 0.8 + (0.2 - 0.8) * (1 - t/4) ** 2 for t = 1..4
    assert run(s, "uruuu") == [(True, 0.4625), (True, 0.65), (True, 0.7625), (True, 0.8), (False, 0.8)]
    s = PolynomialScheduler(2)
    assert run(s, "uu") == [(True, 0.875), (True, 1.0)]


@pytest.mark.parametrize("make, message", [
    (lambda: ConstantScheduler(1.0, 1.0), r"initial_sparsity must be in \[0, 1\)"),
    (lambda: ConstantScheduler(-0.1), r"initial_sparsity must be in \[0, 1\)"),
    (lambda: ConstantScheduler(0, 50), r"final_sparsity must be in \(0, 1\]"),
    (lambda: ConstantScheduler(0.5, 0.4), "must not be below initial_sparsity"),
    (lambda: ConstantScheduler(update_step=0), "update_step must be positive"),
    (lambda: BinaryScheduler(threshold=-0.01), "threshold must be positive"),
    (lambda: PolynomialScheduler(0), "maximum_steps must be a positive integer"),
    (lambda: PolynomialScheduler(2.5), "maximum_steps must be a positive integer"),
    (lambda: PolynomialScheduler(3, decay_power=0), "decay_power must be positive"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
