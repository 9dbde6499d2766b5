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


def side_by_side(proxies):
    """One proxy computing each of ``proxies`` on inputs of its own, outputs in order; every layer is copied with
    its weights under the name ``m{i}_{name}``, so that hls4ml compiles them as one project."""
    import keras

    inputs, outputs = [], []
    for i, proxy in enumerate(proxies):
        prefix = f"m{i}_"
        fresh = [keras.Input(batch_shape=t.shape, dtype=t.dtype, name=f"{prefix}input{j}")
                 for j, t in enumerate(proxy.inputs)]
        clone = keras.models.clone_model(
            proxy, input_tensors=keras.tree.pack_sequence_as(proxy.input, fresh),
            clone_function=lambda layer, prefix=prefix: type(layer).from_config(
                {**layer.get_config(), "name": prefix + layer.name}))
        for layer in proxy.layers:
            if layer.weights:
                clone.get_layer(prefix + layer.name).set_weights(layer.get_weights())
        inputs += fresh
        outputs += clone.outputs
    return keras.Model(inputs, outputs, name="side_by_side")


class PartOfProject:
    """The ``predict`` of one part of a ``side_by_side`` project: its inputs in their places, zeros elsewhere, its
    outputs only."""

    def __init__(self, hls_model, combined, inputs, outputs):
        self.hls_model, self.combined = hls_model, combined
        self.inputs, self.outputs = inputs, outputs  # index ranges into the combined inputs and outputs

    def predict(self, x):
        own = x if isinstance(x, (list, tuple)) else [x]
        n = len(own[0])
        arrays = [np.zeros((n, *t.shape[1:])) for t in self.combined.inputs]
        arrays[self.inputs.start:self.inputs.stop] = own
        y = self.hls_model.predict([np.ascontiguousarray(a, np.float64) for a in arrays])
        y = [y] if len(self.combined.outputs) == 1 else list(y)
        part = y[self.outputs.start:self.outputs.stop]
        return part if len(part) > 1 else part[0]


class SharedLayerProject:
    """The hls4ml projects of the layer tests (``layer_base``): the proxies of every selected test class, compiled
    side by side as one project per ``io_type`` and strategy, so that each layer adds its code, not compiles, to the
    suite. ``self(test_class, strategy)`` returns the class's ``(model, proxy, x)`` and its ``PartOfProject``."""

    def __init__(self, items, root):
        self.root = root
        self.selected = list(dict.fromkeys((item.cls, item.callspec.params["strategy"]) for item in items
                                           if item.cls is not None and item.originalname == "test_hls4ml_bit_exact"))
        self._cases, self._parts = {}, {}

    def __call__(self, test_class, strategy):
        key = (test_class, strategy)
        if key not in self._parts:
            self._build([c for c, s in self.selected if s == strategy and c.io_type == test_class.io_type]
                        or [test_class], strategy)
        return self._parts[key]

    def _build(self, classes, strategy):
        for cls in classes:  # each class's case once, whatever the strategy
            if cls not in self._cases:
                self._cases[cls] = cls().proxy_case()
        cases = [self._cases[cls] for cls in classes]
        combined = side_by_side([proxy for _, proxy, _ in cases])
        hls_model = compile_hls4ml(combined, self.root / f"prj{len(self._parts)}", classes[0].io_type,
                                   strategy=strategy)
        i = o = 0
        for cls, (model, proxy, x) in zip(classes, cases):
            part = PartOfProject(hls_model, combined, range(i, i + len(proxy.inputs)),
                                 range(o, o + len(proxy.outputs)))
            i, o = i + len(proxy.inputs), o + len(proxy.outputs)
            self._parts[cls, strategy] = (model, proxy, x, part)
