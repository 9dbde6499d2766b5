"""The one hls4ml bit-exactness check of the test suite: convert a proxy, compile it with g++, predict, compare.

    hls_model = compile_hls4ml(proxy, tmp_path / "prj", io_type="io_parallel")
    check_bit_exact(proxy, x, hls_model, model=model, scales=(2.5, 3.0))

``check_bit_exact`` asserts that the proxy equals the H-model on the in-range data ``x`` (when ``model`` is given),
that hls4ml equals the proxy on ``x`` and on every ``scale * x`` (overflowing data), that at least ``min_samples``
samples were compared, and that the scaled data really overflowed. ``HLS4MLProjects`` (the ``hls4ml_projects``
fixture of ``conftest.py``) compiles each distinct proxy once per session.

hls4ml and TensorFlow are imported lazily, so that pytest-xdist's controller never loads them.
"""

import hashlib

import numpy as np


def compile_hls4ml(proxy, output_dir, io_type="io_parallel", **kwargs):
    """``hgq.proxy.convert_to_hls4ml`` then ``compile()``: the compiled hls4ml model, ready to predict."""
    from hgq.proxy import convert_to_hls4ml

    hls_model = convert_to_hls4ml(proxy, output_dir, io_type=io_type, **kwargs)
    hls_model.compile()
    return hls_model


def assert_exact(got, expected, what):
    """``np.array_equal``; on failure say how many samples are exact and where the first mismatch is."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shapes differ, {got.shape} != {expected.shape}"
    if np.array_equal(got, expected):
        return
    differs = (got != expected).reshape(len(got), -1)
    bad = np.any(differs, axis=1)
    i = int(np.argmax(bad))
    j = int(np.argmax(differs[i]))
    raise AssertionError(
        f"{what}: {1 - bad.mean():.2%} of {len(got)} samples exact; first mismatch at sample {i}, element {j}: "
        f"{got.reshape(len(got), -1)[i, j].item()!r} != {expected.reshape(len(got), -1)[i, j].item()!r}")


def _inputs(x):
    """``x`` as a list of arrays, one per model input."""
    return [np.asarray(a) for a in x] if isinstance(x, (list, tuple)) else [np.asarray(x)]


def _model_inputs(arrays, dtype=None):
    arrays = [a if dtype is None else a.astype(dtype) for a in arrays]
    return arrays if len(arrays) > 1 else arrays[0]


def proxy_predict(proxy, x):
    from hgq.proxy import proxy_predict as predict

    return predict(proxy, _inputs(x))


def check_bit_exact(proxy, x, hls_model, model=None, scales=(3.0,), min_samples=1000):
    """hls4ml == proxy on ``x`` (an array, or a list of arrays for several inputs) and on each ``scale * x``; with
    ``model``, proxy == H-model on ``x`` and the scaled data overflows (the proxy differs from the H-model there).
    Returns the compared inputs."""
    from hgq.proxy import hls4ml_predict

    arrays = _inputs(x)
    n = len(arrays[0])
    if model is not None:
        assert_exact(proxy_predict(proxy, arrays), model.predict(_model_inputs(arrays), verbose=0),
                     "proxy vs H-model on in-range data")
    x_all = [np.concatenate([a] + [a * s for s in scales]).astype(np.float64) for a in arrays]
    assert len(x_all[0]) >= min_samples, f"only {len(x_all[0])} samples compared, want >= {min_samples}"
    y_proxy = proxy_predict(proxy, x_all)
    y_hls = hls4ml_predict(hls_model, _model_inputs(x_all), proxy)
    assert_exact(y_hls, y_proxy, f"hls4ml vs proxy on x and x * {list(scales)}")
    if model is not None and scales:
        overflowing = _model_inputs([a[n:] for a in x_all], arrays[0].dtype)
        assert not np.array_equal(y_proxy[n:], model.predict(overflowing, verbose=0)), \
            "the overflow test data did not overflow"
    return _model_inputs(x_all)


def fingerprint(proxy):
    """A digest of everything that decides a proxy's hls4ml project: its config and every weight."""
    digest = hashlib.sha256(proxy.to_json().encode())
    for w in proxy.get_weights():
        digest.update(str((w.dtype, w.shape)).encode())
        digest.update(np.ascontiguousarray(w).tobytes())
    return digest.hexdigest()


class HLS4MLProjects:
    """Compiled hls4ml projects, one per distinct (proxy, io_type, options): the same proxy compiles once."""

    def __init__(self, root):
        self.root = root
        self._models = {}

    def __call__(self, proxy, io_type="io_parallel", **kwargs):
        key = (fingerprint(proxy), io_type, tuple(sorted(kwargs.items())))
        if key not in self._models:
            self._models[key] = compile_hls4ml(proxy, self.root / f"prj{len(self._models)}", io_type, **kwargs)
        return self._models[key]
