"""hgq layers under a mixed-precision dtype policy (docs/quantizer.md, "Mixed precision"): they compute in float32,
so a model trained under ``mixed_bfloat16`` still exports to a proxy equal to it; a 16-bit ``dtype=`` is refused.
(Each layer's training step under the policy is in ``layer_base.LayerTest``.)"""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HConv2D, HDense, HQuantize, PFlatten, Signature
from hgq.quantizer import Quantizer

from conftest import trained_mlp
from layer_base import hgq_layers


def test_h_model_trained_under_mixed_bfloat16_exports_to_an_equal_proxy(mixed_bfloat16, tmp_path):
    model, x = trained_mlp(epochs=2)  # built, trained and calibrated under the policy
    assert keras.layers.Dense(1).compute_dtype == "bfloat16"
    assert {layer.compute_dtype for layer in hgq_layers(model)} == {"float32"}
    proxy = hgq.to_proxy_model(model)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save(tmp_path / "h.keras")
    keras.config.set_dtype_policy("float32")  # the saved float32 layers load as such under any policy
    loaded = keras.saving.load_model(tmp_path / "h.keras")
    assert {layer.compute_dtype for layer in hgq_layers(loaded)} == {"float32"}
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_explicit_exact_dtypes_are_kept_under_the_policy(mixed_bfloat16):
    assert HDense(2, dtype="float64").compute_dtype == "float64"
    assert Quantizer().compute_dtype == Quantizer(dtype="float32").variable_dtype == "float32"


@pytest.mark.parametrize("make, message", [
    (lambda: HDense(3, dtype="mixed_bfloat16", name="d"), "HDense 'd': dtype='mixed_bfloat16' computes in bfloat16"),
    (lambda: HConv2D(2, 3, dtype="float16", name="c"), "HConv2D 'c': dtype='float16' computes in float16"),
    (lambda: HQuantize(dtype="bfloat16", name="q"), "HQuantize 'q': dtype='bfloat16' computes in bfloat16"),
    (lambda: PFlatten(dtype="mixed_float16", name="f"), "PFlatten 'f': dtype='mixed_float16' computes in float16"),
    (lambda: Signature(dtype="bfloat16", name="s"), "Signature 's': dtype='bfloat16'"),
    (lambda: Quantizer(dtype="mixed_bfloat16", name="k"), "Quantizer 'k': dtype='mixed_bfloat16'"),
], ids=["HDense", "HConv2D", "HQuantize", "PFlatten", "Signature", "Quantizer"])
def test_a_16_bit_or_mixed_dtype_is_refused(make, message):
    with pytest.raises(ValueError, match=message + r".*cannot hold fixed-point values exactly.*Pass dtype='float32'"):
        make()
