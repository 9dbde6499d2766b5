"""Every read of the Keras graph: which layer produced a tensor, what feeds each layer, nested models, walks.

Keras records the graph on symbolic tensors (``_keras_history``), on layers (``_inbound_nodes``) and on functional
models (``_nodes_by_depth``); these are private attributes, and this module is the only place in hgq that reads
them. Nothing here writes to Keras objects.

A layer *called on two different inputs* (a shared layer) is refused: its output quantizer would record the
ranges of both calls, and the firmware would need two instances. ``SharedLayerError`` says so and what to do.
"""

import keras


class SharedLayerError(ValueError):
    """A layer is called more than once in a model, on different inputs."""


def _label(layer):
    return f"{type(layer).__name__} {layer.name!r}"


def _shared_error(layer, what, model=None):
    where = f" in model {model.name!r}" if model is not None else ""
    return SharedLayerError(f"{_label(layer)} is called on {what}{where}; hgq does not support shared layers (each "
                            "call would need its own hardware and its own ranges): use one layer per call")


def require_graph_model(model, who):
    """Refuse a subclassed ``keras.Model`` (nested ones included), naming it and saying how to rebuild it: its
    layers are connected by its own Python ``call``, which hgq cannot follow (BOPs, calibration, export, profiling
    and pruning all walk the model's graph)."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"{who}: expected a keras.Model, got {type(model).__name__}")
    if not (isinstance(model, keras.Sequential) or hasattr(model, "_nodes_by_depth")):
        raise ValueError(f"{who}: model {model.name!r} is a subclassed keras.Model ({type(model).__name__}), whose "
                         "graph is its own call method; build it from the same layers with the functional API "
                         "(x = keras.Input(shape); y = layer(x) ...; keras.Model(x, y)) or as a keras.Sequential")
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            require_graph_model(layer, who)


def producer_of(tensor):
    """The layer that produced a symbolic ``keras.KerasTensor`` (``None`` for an eager tensor or an input)."""
    history = getattr(tensor, "_keras_history", None)
    return None if history is None else history.operation


def through_nested_models(layer):
    """``layer``, or for a nested single-output model the layer that produces its output (followed down)."""
    while isinstance(layer, keras.Model) and len(layer.outputs or ()) == 1:
        layer = producer_of(layer.outputs[0])
    return layer


def _calls(layer):
    """The input tensors of each symbolic call of ``layer``, oldest first."""
    return [list(node.input_tensors) for node in getattr(layer, "_inbound_nodes", ())]


def _producer_key(layer):
    # A Sequential model calls its layers again on a new Input each time it is rebuilt: calls that differ only
    # by the model input they start from are one call.
    return "input" if isinstance(layer, keras.layers.InputLayer) else id(layer)


def _last_distinct_call(layer):
    """The input tensors of the layer's call, after checking that all its calls read the same producers."""
    calls = _calls(layer)
    if not calls:
        return None
    keys = {tuple(_producer_key(through_nested_models(producer_of(t))) for t in call) for call in calls}
    if len(keys) > 1:
        raise _shared_error(layer, f"{len(keys)} different inputs")
    return calls[-1]


def input_layers(layer):
    """The layers that feed ``layer``, in input order, an input coming out of a nested single-output model
    attributed to that model's last layer; ``[]`` when ``layer`` was never called on symbolic tensors.

    Raises ``SharedLayerError`` when the layer was called on different inputs.
    """
    call = _last_distinct_call(layer)
    return [] if call is None else [through_nested_models(producer_of(t)) for t in call]


def input_shapes(layer):
    """Shapes (batch axis included) of the inputs of the layer's call, ``[]`` when never called."""
    call = _last_distinct_call(layer)
    return [] if call is None else [tuple(t.shape) for t in call]


def output_shapes(layer):
    """Shapes (batch axis included) of the outputs of the layer's last call, ``[]`` when never called."""
    nodes = getattr(layer, "_inbound_nodes", ())
    return [tuple(t.shape) for t in nodes[-1].outputs] if nodes else []


def model_input_layers(model):
    """The ``InputLayer`` of each input of ``model``."""
    return [producer_of(t) for t in model.inputs]


def flat_layers(model, prefix=""):
    """``(path, layer)`` of every layer of ``model`` in model order, nested models flattened (``outer/inner``
    paths), input layers left out."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from flat_layers(layer, f"{prefix}{layer.name}/")
        elif not isinstance(layer, keras.layers.InputLayer):
            yield prefix + layer.name, layer


def layers_of_type(model, cls):
    """Every layer of ``model`` (nested models included) that is an instance of ``cls``, in model order."""
    return [layer for _, layer in flat_layers(model) if isinstance(layer, cls)]


def _functional(model):
    """``model`` as a functional graph (a Sequential model's graph is rebuilt from its inputs and outputs)."""
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError(f"model {model.name!r} has no defined inputs; build it (e.g. give its first layer an input "
                         "shape) first")
    return keras.Model(model.inputs, model.outputs, name=model.name)


def _nodes(functional):
    """The nodes of a functional model in execution order (deepest first), input nodes left out."""
    by_depth = functional._nodes_by_depth
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]
            if node.operation is not None and not node.is_input]


def check_no_shared_layers(model):
    """Raise ``SharedLayerError`` when a layer of ``model`` (nested models included) is called more than once."""
    seen = set()
    for node in _nodes(_functional(model)):
        layer = node.operation
        if id(layer) in seen:
            raise _shared_error(layer, "more than one input", model)
        seen.add(id(layer))
        if isinstance(layer, keras.Model):
            check_no_shared_layers(layer)


def run(model, inputs, call_layer):
    """Walk the graph of ``model`` on ``inputs`` (tensors standing for its inputs, symbolic or eager).

    Every layer is evaluated by ``call_layer(layer, *args, **kwargs)``, the arguments it was called with in the
    model, with tensors replaced by those computed so far. Nested models are walked layer by layer (flattened:
    ``call_layer`` never receives a model). Returns the outputs, structured like ``model.outputs``.
    """
    functional = _functional(model)
    values = {id(t): v for t, v in zip(functional.inputs, keras.tree.flatten(inputs))}
    for node in _nodes(functional):
        if any(id(t) not in values for t in node.input_tensors):
            continue  # not computable from these inputs
        args, kwargs = node.arguments.fill_in(values)
        layer = node.operation
        if isinstance(layer, keras.Model):
            outputs = run(layer, args[0], call_layer)
        else:
            outputs = call_layer(layer, *args, **kwargs)
        for t, v in zip(node.outputs, keras.tree.flatten(outputs)):
            values[id(t)] = v
    outputs = [values[id(t)] for t in functional.outputs]
    return keras.tree.pack_sequence_as(functional.output, outputs)
