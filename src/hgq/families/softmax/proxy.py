"""Softmax: hls4ml's table softmax, a proxy layer holding the tables that hls4ml's C simulation computes."""

import keras
from keras import ops

from .tables import SoftmaxTables, table_softmax


@keras.saving.register_keras_serializable(package="hgq")
class Softmax(keras.layers.Layer):
    """hls4ml's softmax along ``axis`` with the types of ``tables`` (``hgq.families.softmax.tables``): its weights
    ``exp_table`` and ``inv_table`` hold what the C simulation computes, and hls4ml reads the types from the config
    (``hgq.families.softmax.hls_handler``). In ``latency`` mode the input must lie on ``norm_t``'s grid.

    Args:
        tables: the ``SoftmaxTables`` (or its config).
        axis: the softmax axis.
    """

    def __init__(self, tables, axis=-1, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.tables = tables if isinstance(tables, SoftmaxTables) else SoftmaxTables.from_config(tables)
        self.axis = int(axis)

    def build(self, input_shape):
        self.exp_table = self.add_weight(name="exp_table", shape=(2**self.tables.norm_t.width,), trainable=False,
                                         initializer=keras.initializers.Constant(self.tables.exp_table()))
        self.inv_table = self.add_weight(name="inv_table", shape=(2**self.tables.inv_inp_t.width,), trainable=False,
                                         initializer=keras.initializers.Constant(self.tables.inv_table()))
        self.built = True

    def call(self, x):
        return table_softmax(x, self.tables, ops.convert_to_tensor(self.exp_table),
                             ops.convert_to_tensor(self.inv_table), self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(tables=self.tables.get_config(), axis=self.axis)
        return cfg
