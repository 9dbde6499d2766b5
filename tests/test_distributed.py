"""MirroredStrategy on two logical CPU devices: records, BOPs and export agree with one device."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.hls4ml


@pytest.fixture(scope="module")
def result():
    script = os.path.join(os.path.dirname(__file__), "distributed_check.py")
    done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_replicas_ran(result):
    assert result["replicas"] == 2 and result["weights_moved"]


def test_training_records_aggregate_across_replicas(result):
    """Min of the replicas' mins and max of their maxes: exactly what one device records."""
    assert result["training_records_equal"]
    assert result["training_bops"][0] == result["training_bops"][1] > 0


def test_calibration_equals_single_device(result):
    assert result["calibration_records_equal"]
    assert result["calibrated_bops"][0] == result["calibrated_bops"][1] > 0


def test_distributed_model_exports_bit_exact(result):
    assert result["hls4ml_bit_exact"] and result["samples"] >= 1000
