"""hls4ml's merge and concatenate layers take two inputs: the proxy of a layer of more is a chain of two-input
layers (``two_input_chain``)."""


def two_input_chain(make_layer, name, tensors):
    """``((t0 ⊕ t1) ⊕ t2) ⊕ …`` of the proxy ``tensors``, each ``⊕`` a two-input layer ``make_layer(layer_name)``
    named ``name``, ``name_1``, …; the output tensor."""
    y = tensors[0]
    for n, t in enumerate(tensors[1:]):
        y = make_layer(name if n == 0 else f"{name}_{n}")([y, t])
    return y
