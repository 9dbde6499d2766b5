"""hls4ml's side of the proxy's ``GRU``, ``LSTM`` and ``Bidirectional``: their Keras-3 handlers (hls4ml's static
recurrent layers with the proxy's weights, table size and types) and their rules in hls4ml's bit-exact pass, which has
none: the output is the state type, and the layer's own types are kept. Registered by being defined; ``hgq.proxy`` hands the registries to
hls4ml."""

import numpy as np

from ..hls4ml_handlers import bit_exact_rule, hls4ml_handler, precision_rule
from .proxy import GRU, LSTM, Bidirectional


def common_config(layer, in_tensors, out_tensors):
    """What the configs of every recurrent layer hold: sizes, the static implementation, the tables, hgq's types."""
    a = layer.arithmetic
    _, n_steps, n_in = in_tensors[0].shape
    return {"return_sequences": layer.return_sequences, "return_state": False, "time_major": False,
            "n_timesteps": int(n_steps), "n_in": int(n_in), "static": True, "table_size": a.table_size,
            "table_t": a.table_t.to_hls4ml(), "accum_t": layer.accum_t.to_hls4ml(),
            "hgq_state_precision": layer.state_t.to_hls4ml(),
            "hgq_output_kif": layer.output_kif(tuple(out_tensors[0].shape[1:]))}


def direction_config(layer, weights, prefix=""):
    """One direction's weights, activations and, for a GRU, recurrent bias and reset gate, its keys prefixed."""
    kernel, recurrent_kernel, bias, recurrent_bias = weights
    config = {"weight_data": kernel, "recurrent_weight_data": recurrent_kernel, "bias_data": bias,
              "activation": "tanh", "recurrent_activation": "sigmoid"}
    if layer.arithmetic.cell == "gru":
        config.update(recurrent_bias_data=recurrent_bias, apply_reset_gate="after")
    return {prefix + key: value for key, value in config.items()}


@hls4ml_handler(GRU, LSTM)
def recurrent_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a proxy ``GRU`` or ``LSTM``."""
    (weights,) = layer.direction_weights()
    return {"class_name": type(layer).__name__, "direction": "forward", "n_out": layer.arithmetic.units,
            **common_config(layer, in_tensors, out_tensors), **direction_config(layer, weights)}


@hls4ml_handler(Bidirectional)
def bidirectional_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a proxy ``Bidirectional`` (hls4ml's own Keras-3 converter fails on a GRU's)."""
    a = layer.arithmetic
    config = {"class_name": "Bidirectional", "direction": "bidirectional", "merge_mode": "concat",
              "n_out": 2 * a.units, **common_config(layer, in_tensors, out_tensors)}
    for direction, weights in zip(("forward", "backward"), layer.direction_weights()):
        config.update(direction_config(layer, weights, f"{direction}_"))
        config.update({f"{direction}_class_name": a.cell.upper(), f"{direction}_n_states": a.units,
                       f"{direction}_name": f"{layer.name}_{direction}", f"{direction}_use_bias": True})
    return config


@bit_exact_rule("GRU", "LSTM", "Bidirectional")
def state_type(node):
    """The state type, for each output element (``hgq_output_kif``)."""
    return tuple(np.asarray(a, dtype=np.int16) for a in node.attributes["hgq_output_kif"])


@precision_rule("GRU", "LSTM", "Bidirectional")
def keep_own_types(node):
    """hls4ml's types of the weights (each the smallest holding its values), but the accumulator, the table and the
    result (the state) as the proxy sets them (hls4ml's default rule would make the accumulator and the result the
    output's requested type); an LSTM's input type is its one type too (``hgq.families.recurrent.spec.one_type_input``
    makes its producer a quantizer hls4ml does not fuse)."""
    from hls4ml.model.optimizer.passes.bit_exact import default_register_precision
    from hls4ml.model.types import NamedType

    kept = {name: node.attributes[name] for name in ("accum_t", "table_t")}
    default_register_precision(node)
    node.attributes.update(kept)
    state = node.attributes["hgq_state_precision"].precision  # hls4ml wraps a precision attribute in a NamedType
    result_t = NamedType(f"{node.name}_t", state)
    node.attributes["result_t"] = result_t
    node.get_output_variable().type = result_t
    if node.class_name == "LSTM":  # a bidirectional LSTM calls the static code only: no one type
        keep_one_type_input(node, state)


def keep_one_type_input(node, state):
    """An LSTM's input of its one type ``state``: the input's quantizer (``<name>_input_q``) gets back its own types
    (the bit-exact pass narrows them to its input's, which would make them one type and the quantizer fused into the
    layer before it), and its output's type is the one type."""
    producer = node.get_input_node()
    if producer is None or producer.name != f"{node.name}_input_q":
        raise ValueError(f"LSTM {node.name!r}: its input comes from {getattr(producer, 'name', None)!r}, not from its "
                         f"one-type quantizer {node.name + '_input_q'!r}; export the model with hgq.to_proxy_model")
    producer.mask_kbi = producer.attributes["mask_kbi"]
    node.get_input_variable().type.precision = state

