"""HGQ2 (distribution ``hgq2``) installs a top-level ``hgq`` package too: with it installed in the same environment,
``import hgq`` stops with an ``ImportError`` naming both distributions and the fix. Checked for real, in a
subprocess that sees a (fake) installed ``hgq2`` through its metadata on ``PYTHONPATH``; without it, the check
passes."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.once  # the environment, not the backend


def import_hgq(pythonpath):
    env = dict(os.environ)
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


def test_import_works_without_hgq2(tmp_path, monkeypatch):
    """The same check with an empty folder first on the path passes: the refusal above comes from the hgq2
    metadata. In this process (``import hgq`` is done; ``_refuse_hgq2`` is its first step, the one under test)
    rather than in a fresh one, which would import TensorFlow for nothing more."""
    import hgq

    monkeypatch.syspath_prepend(str(tmp_path))
    hgq._refuse_hgq2()
