"""HEmbedding: indices read as the firmware reads them (``floor(x) mod 2^n``, zero rows past the table), in the
H-model and its proxy; io_stream bit-exact (with an HPReLU after it); ``mask_zero`` refused by name. Its layer checks
(training, proxy, hls4ml with indices past the table, negative and fractional) are in ``test_layers.py``; the float
layer's mapping in ``test_quantize_model.py``."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HDense, HEmbedding, HPReLU, PFlatten
from hgq.proxy import proxy_predict

from bitexact import check_bit_exact, compile_hls4ml


def embedding_model():
    """Indices of a 12-row table of 3-vectors (4 index bits: 16 rows in firmware), each entry on its own grid."""
    keras.utils.set_random_seed(0)
    ids = keras.Input((5,))
    embed = HEmbedding(12, 3, embeddings_initializer=keras.initializers.RandomUniform(-4.0, 4.0), name="emb")
    model = keras.Model(ids, embed(ids))
    hgq.trace_minmax(model, np.arange(12, dtype="float32").reshape(-1, 1).repeat(5, axis=1) % 12)
    return model, embed


def test_indices_wrap_and_read_zeros_past_the_table():
    model, embed = embedding_model()
    table = keras.ops.convert_to_numpy(embed.quantized_table(False))
    assert table.shape == (16, 3) and not np.any(table[12:]) and np.any(table[:12])
    x = np.array([[0.0, 11.0, 12.0, 15.0, 16.0], [-1.0, -16.0, 2.7, -0.5, 33.9]], "float32")
    expected_rows = np.array([[0, 11, 12, 15, 0], [15, 0, 2, 15, 1]])
    y = model.predict(x, verbose=0)
    assert np.array_equal(y, keras.ops.convert_to_numpy(embed.paq(table[expected_rows], training=False)))
    assert np.array_equal(proxy_predict(hgq.to_proxy_model(model), x.astype(np.float64)), y)


@pytest.mark.hls4ml
def test_io_stream_is_bit_exact_with_a_prelu_after_it(tmp_path):
    """One type per layer (what io_stream takes): indices -> HEmbedding -> PFlatten -> HDense -> HPReLU, streamed, on
    indices past the table, negative and fractional."""
    keras.utils.set_random_seed(0)
    one = {"skip_dims": "all"}
    ids = keras.Input((5,))
    y = HEmbedding(12, 3, embeddings_initializer=keras.initializers.RandomUniform(-4.0, 4.0), paq_conf=one)(ids)
    y = HDense(4, paq_conf=one)(PFlatten()(y))
    model = keras.Model(ids, HPReLU(keras.initializers.RandomUniform(-2.0, 2.0), paq_conf=one)(y))
    x = np.random.default_rng(0).uniform(-20, 40, size=(1000, 5)).astype("float32")
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    check_bit_exact(proxy, x, compile_hls4ml(proxy, tmp_path / "prj", "io_stream"), model=model, scales=())


def test_mask_zero_is_refused_by_name():
    with pytest.raises(ValueError, match=r"HEmbedding 'e': mask_zero=True is not supported"):
        HEmbedding(4, 2, mask_zero=True, name="e")
