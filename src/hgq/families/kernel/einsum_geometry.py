"""The geometry of an ``EinsumDense`` equation: which input elements each weight multiplies, and the layer as a matrix
product of input columns by the kernel (``geometry``'s protocol), for any equation Keras accepts.

The letters of ``input,kernel->output`` (batch axis included, as Keras writes it) sort into four kinds: *groups*
(in all three: each value of the letter has its own slice of the kernel), *positions* (input and output: the kernel is
applied at each), *terms* (summed: in the input and the kernel, or in only one of them, a *direct sum*, the other
operand repeated along it) and *outputs* (kernel and output).
"""

import string

import numpy as np
from keras import ops


def spell_out(equation, *ranks):
    """``(operands..., output)`` letters of ``equation`` with each ``...`` replaced by letters it does not use, as
    many as the axes it stands for in each operand (of ``ranks``, batch axis included), aligned from the right as
    broadcasting aligns them."""
    inputs, output = equation.split("->")
    operands = inputs.split(",")
    if "..." not in equation:
        return (*operands, output)
    counts = [rank - len(op.replace("...", "")) if "..." in op else 0 for op, rank in zip(operands, ranks)]
    fill = "".join([c for c in string.ascii_letters if c not in equation][:max(counts)])
    spelled = [op.replace("...", fill[len(fill) - n:]) for op, n in zip(operands, counts)]
    return (*spelled, output.replace("...", fill))


class EinsumGeometry:
    """An ``EinsumDense`` equation on inputs of feature shape ``input_shape`` and a kernel of ``kernel_shape``.

    Args:
        equation: the Keras equation (``"ab,bc->ac"``; the first letter of the input and output is the batch).
        input_shape: the input's feature shape (no batch axis).
        kernel_shape: the kernel's shape.
    """

    def __init__(self, equation, input_shape, kernel_shape):
        self.input_shape = tuple(int(n) for n in input_shape)
        self.inp, self.ker, self.out = spell_out(equation, 1 + len(self.input_shape), len(kernel_shape))
        self.size = {**dict(zip(self.inp, (1, *self.input_shape))), **dict(zip(self.ker, map(int, kernel_shape)))}
        inp, ker, out = set(self.inp), set(self.ker), set(self.out)
        self.groups = [c for c in self.ker if c in inp and c in out]
        self.positions = [c for c in self.inp if c in out and c not in ker]
        self.input_sums = [c for c in self.inp if c not in out and c not in ker]  # direct sums of the input
        self.kernel_sums = [c for c in self.ker if c not in out and c not in inp]  # direct sums of the kernel
        self.terms = [c for c in self.ker if c in inp and c not in out] + self.input_sums + self.kernel_sums
        self.outputs = [c for c in self.ker if c in out and c not in inp]

    @property
    def output_shape(self):
        """The output's feature shape (no batch axis)."""
        return tuple(self.size[c] for c in self.out[1:])

    @property
    def direct_sums(self):
        """The letters summed in one operand only (hls4ml's EinsumDense refuses them)."""
        return self.input_sums + self.kernel_sums

    def _matrix(self, array, spec, axes):
        """``array`` (axes ``spec``) broadcast over the letters of ``axes`` it lacks, transposed to ``axes`` order and
        flattened to ``(groups, rows, columns)`` (``axes`` holds the three lists)."""
        letters = [c for part in axes for c in part]
        extra = [c for c in letters if c not in spec]
        array = np.reshape(array, np.shape(array) + (1,) * len(extra))
        array = np.transpose(array, [(spec + "".join(extra)).index(c) for c in letters])
        array = np.broadcast_to(array, [self.size[c] for c in letters])
        return array.reshape([int(np.prod([self.size[c] for c in part])) for part in axes])

    def columns(self, array, fill=0.0):
        """``(groups, positions, terms)``: the input elements (of ``array``, shaped like the input features) that each
        output position reads (an EinsumDense reads no padding: ``fill`` is unused)."""
        return self._matrix(np.asarray(array)[None], self.inp, (self.groups, self.positions, self.terms))

    def kernel_matrix(self, kernel):
        """The kernel as ``(groups, terms, outputs)``, terms ordered as ``columns``."""
        return self._matrix(np.asarray(kernel), self.ker, (self.groups, self.terms, self.outputs))

    def output_features(self, y):
        """``(groups, positions, outputs)`` back to the output's feature shape."""
        letters = self.groups + self.positions + self.outputs
        y = np.reshape(y, [self.size[c] for c in letters])
        return np.transpose(y, [letters.index(c) for c in self.out])[0]

    def weight_input_bits(self, in_bits):
        """For each weight, the sum of the widths ``in_bits`` (shaped ``(1, *input features)``) of the input elements
        it multiplies, over every position: the input summed over the letters the kernel lacks (``keras.ops``)."""
        shared = "".join(c for c in self.ker if c in self.inp)
        summed = ops.einsum(f"{self.inp}->{shared}", in_bits)
        return ops.reshape(summed, [self.size[c] if c in self.inp else 1 for c in self.ker])
