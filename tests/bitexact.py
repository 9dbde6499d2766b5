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
        check_exported_outputs(model, proxy, x_all)
    return _model_inputs(x_all)


def check_exported_outputs(model, proxy, x):
    """``hgq.exported_outputs`` of the H-model (the proxy's outputs computed by the H-model) equals the
    proxy on ``x`` (as the H-model's float32 inputs), overflows included, where the proxy wraps (``aggressive``)."""
    from hgq.calibration import exported_outputs
    from hgq.proxy_layers import FixedPointQuantizer

    if any(layer.SAT != "WRAP" for layer in proxy.layers if isinstance(layer, FixedPointQuantizer)):
        return
    x = [a.astype(np.float32) for a in x]
    y = exported_outputs(model, _model_inputs(x))
    assert_exact(np.asarray(y, np.float64), proxy_predict(proxy, x),
                 "the H-model's exported outputs vs the proxy, overflows included")


def with_proxy(build, aggressive=True):
    """``(model, proxy, x)`` of ``build()``'s ``(model, x)``: a case as ``SideBySide.add`` takes it."""
    from hgq import to_proxy_model

    model, x = build()
    return model, to_proxy_model(model, aggressive=aggressive), x


def fingerprint(proxy):
    """A digest of everything that decides a proxy's hls4ml project: its config and every weight."""
    config = np.frombuffer(proxy.to_json().encode(), np.uint8)
    return digest([config] + [np.ascontiguousarray(w) for w in proxy.get_weights()])


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


def digest(arrays):
    """A digest of a list of arrays: their dtypes, shapes and values."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.dtype, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


class PartOfProject:
    """The ``predict`` of one part of a ``side_by_side`` project: its inputs in their places, its outputs only.

    The C simulation computes every part on every sample, whatever their inputs; so each other part whose inputs
    have the same shapes is given the same inputs too (the others zeros), and its outputs are kept in ``results``,
    shared by the project's parts: a part asked to predict exactly those inputs later (the cases of a grid checked
    on the same data) gets the outputs that hls4ml computed for it, without another simulation."""

    def __init__(self, hls_model, combined, inputs, outputs, parts, results):
        self.hls_model, self.combined = hls_model, combined
        self.inputs, self.outputs = inputs, outputs  # index ranges into the combined inputs and outputs
        self.parts, self.results = parts, results  # every part of the project; {(part, digest): its outputs}

    def predict(self, x):
        from hgq.proxy.c_simulation import c_simulation

        own = [np.ascontiguousarray(a, np.float64) for a in (x if isinstance(x, (list, tuple)) else [x])]
        key = digest(own)
        if (self, key) in self.results:
            return self.results.pop((self, key))
        shapes = [a.shape for a in own]
        same = [p for p in self.parts if p is self or (
            (p, key) not in self.results and [(len(own[0]), *t.shape[1:]) for t in p.own_inputs()] == shapes)]
        arrays = [np.zeros((len(own[0]), *t.shape[1:])) for t in self.combined.inputs]
        for part in same:
            arrays[part.inputs.start:part.inputs.stop] = own
        y = c_simulation(self.hls_model, arrays)  # flat outputs, as hls4ml's predict gives them
        for part in same:
            outputs = y[part.outputs.start:part.outputs.stop]
            self.results[part, key] = outputs if len(outputs) > 1 else outputs[0]
        return self.results.pop((self, key))

    def own_inputs(self):
        return self.combined.inputs[self.inputs.start:self.inputs.stop]


class SideBySide:
    """hls4ml projects shared by many test cases, so that a case adds its code, not a compile, to the suite.

    ``add(case, build, io_type, **options)`` declares a case (``build()`` returns ``(model, proxy, x)``: the H-model,
    or ``None``, its proxy and the data; called once per case); ``self(case, io_type, **options)`` returns ``(model,
    proxy, x, part)``, where ``part`` predicts like the case's own compiled project. The first request compiles every
    declared case of that io type and options not compiled yet, side by side (``side_by_side``), as one project.

        projects = SideBySide(tmp_path_factory.mktemp("grid"))
        for rounding in ROUNDINGS:
            projects.add(rounding, lambda rounding=rounding: case(rounding), "io_parallel")
        model, proxy, x, part = projects("floor", "io_parallel")
        check_bit_exact(proxy, x, part, model=model)
    """

    def __init__(self, root):
        self.root = root
        self._builders, self._cases = {}, {}
        self._pending, self._parts = {}, {}  # (io_type, options) -> cases; (case, io_type, options) -> part

    def add(self, case, build, io_type="io_parallel", **options):
        group = (io_type, tuple(sorted(options.items())))
        self._builders.setdefault(case, build)
        if (case, *group) not in self._parts and case not in self._pending.setdefault(group, []):
            self._pending[group].append(case)

    def __call__(self, case, io_type="io_parallel", **options):
        group = (io_type, tuple(sorted(options.items())))
        if (case, *group) not in self._parts:
            if case not in self._pending.get(group, []):
                raise KeyError(f"case {case!r} was not declared for {group} (SideBySide.add)")
            self._compile(self._pending.pop(group), group)
        return self._parts[case, *group]

    def _compile(self, cases, group):
        for case in cases:
            if case not in self._cases:
                self._cases[case] = self._builders[case]()
        combined = side_by_side([self._cases[case][1] for case in cases])
        options = {key: value for key, value in group[1] if key != "project"}  # the label of a separate project
        hls_model = compile_hls4ml(combined, self.root / f"prj{len(self._parts)}", group[0], **options)
        i = o = 0
        parts, results = [], {}
        for case in cases:
            model, proxy, x = self._cases[case]
            part = PartOfProject(hls_model, combined, range(i, i + len(proxy.inputs)),
                                 range(o, o + len(proxy.outputs)), parts, results)
            parts.append(part)
            i, o = i + len(proxy.inputs), o + len(proxy.outputs)
            self._parts[case, *group] = (model, proxy, x, part)


def layer_project(items, root):
    """The ``SideBySide`` projects of the layer tests (``layer_base``): every selected test class's case, under each
    strategy its test is selected for, one project per io type, strategy and ``project`` label of the class (layers
    that hls4ml cannot build in one model get different labels)."""
    projects = SideBySide(root)
    for item in items:
        if item.cls is not None and item.originalname == "test_hls4ml_bit_exact":
            projects.add(item.cls, lambda cls=item.cls: cls().proxy_case(), item.cls.io_type,
                         strategy=item.callspec.params["strategy"], project=item.cls.project)
    return projects
