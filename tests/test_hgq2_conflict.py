"""HGQ2 (distribution ``hgq2``) installs a top-level ``hgq`` package too: with it installed in the same environment,
``import hgq`` stops with an ``ImportError`` naming both distributions and the fix. Checked for real, in a
subprocess that sees a (fake) installed ``hgq2`` through its metadata on ``PYTHONPATH``."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.once  # the environment, not the backend


def import_hgq(pythonpath=None):
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(pythonpath), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-c", "import hgq"], capture_output=True, text=True, env=env, timeout=300)


def test_import_stops_when_hgq2_is_installed(tmp_path):
    info = tmp_path / "hgq2-0.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hgq2\nVersion: 0.2.0\n")
    done = import_hgq(tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: hgq (distribution hgq-keras) and HGQ2 (distribution hgq2 0.2.0, in "), last
    assert str(tmp_path) in last and "virtual environment for each" in last and "pip uninstall hgq2 hgq-keras" in last


def test_import_works_without_hgq2(tmp_path):
    done = import_hgq(tmp_path)  # the same, with an empty folder on the path
    assert done.returncode == 0, done.stderr
