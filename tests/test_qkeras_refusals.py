"""QKeras import: models it cannot reproduce exactly are refused, naming the layer and the reason (edited copies of
the mlp fixture), and the `hgq convert-qkeras` command line."""

import copy
import json
import shutil

import h5py
import numpy as np
import pytest

from qkeras_fixtures import FIXTURES, fixture, layer, mlp_config, predict, write_json


# ----- refused models: edited copies of the mlp fixture ---------------------------------------------------------

def _po2_kernel(c):
    layer(c, "q_dense")["config"]["kernel_quantizer"] = {"class_name": "quantized_po2", "config": {"bits": 4}}


def _auto_alpha(c):
    layer(c, "q_dense")["config"]["kernel_quantizer"]["config"]["alpha"] = "auto"


def _stochastic(c):
    layer(c, "q_activation_1")["config"]["activation"]["config"]["use_stochastic_rounding"] = True


def _unknown_layer(c):
    layer(c, "q_activation_1")["class_name"] = "QBatchNormalization"


def _binary_activation(c):
    layer(c, "q_activation_2")["config"]["activation"] = {"class_name": "binary", "config": {"alpha": 1}}


def _auto_po2_activation(c):
    layer(c, "q_activation_2")["config"]["activation"]["config"].update(alpha="auto_po2", symmetric=1)


def _unquantized_input(c):
    c["config"]["layers"].remove(layer(c, "q_activation"))
    layer(c, "q_dense")["inbound_nodes"] = [[["input_1", 0, 0, {}]]]


def _po2_string_activation(c):
    layer(c, "q_activation_1")["config"]["activation"] = "quantized_po2(4, 1)"


def _softmax(c):
    layer(c, "q_dense_1")["config"]["activation"] = "softmax"


def _auto_po2_bias(c):
    layer(c, "q_dense")["config"]["bias_quantizer"]["config"].update(alpha="auto_po2")


REFUSED = {
    "auto_po2_bias": (_auto_po2_bias, r"'q_dense' \(QDense\) bias_quantizer: .*auto_po2.* 1-D tensor"),
    "quantized_po2_string": (_po2_string_activation, r"'q_activation_1' \(QActivation\): quantizer 'quantized_po2'"),
    "softmax": (_softmax, r"'q_dense_1' \(QDense\): quantizer 'softmax' is not supported"),
    "quantized_po2": (_po2_kernel, r"'q_dense' \(QDense\) kernel_quantizer: quantizer 'quantized_po2' is not"),
    "alpha_auto": (_auto_alpha, r"'q_dense' \(QDense\) kernel_quantizer: quantized_bits\(alpha='auto'\) is not a "
                                r"power-of-two"),
    "stochastic": (_stochastic, r"'q_activation_1' \(QActivation\).*use_stochastic_rounding=True"),
    "unknown_layer": (_unknown_layer, r"'q_activation_1' \(QBatchNormalization\): layer class .* not supported"),
    "binary_activation": (_binary_activation, r"'q_activation_2' \(QActivation\): binary as an activation"),
    "auto_po2_activation": (_auto_po2_activation, r"'q_activation_2' \(QActivation\).*auto_po2.*activations"),
    "unquantized_input": (_unquantized_input, r"'q_dense' \(QDense\) is fed by a tensor of unknown fixed-point"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused_json(case, tmp_path):
    from hgq.qkeras import from_qkeras

    edit, message = REFUSED[case]
    config = mlp_config()
    edit(config)
    with pytest.raises(ValueError, match=message):
        from_qkeras(write_json(config, tmp_path), weights=FIXTURES / "mlp.weights.h5")


def test_refused_h5(tmp_path):
    """The same checks on a full-model .h5 whose model_config was edited with h5py."""
    from hgq.qkeras import from_qkeras

    path = tmp_path / "edited.h5"
    shutil.copy(FIXTURES / "mlp.h5", path)
    path.chmod(0o644)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        _auto_alpha(config)
        f.attrs["model_config"] = json.dumps(config)
    with pytest.raises(ValueError, match=REFUSED["alpha_auto"][1]):
        from_qkeras(path)


def test_missing_and_incomplete_inputs(tmp_path):
    from hgq.qkeras import from_qkeras

    with pytest.raises(FileNotFoundError, match="does not exist"):
        from_qkeras(tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="pass weights="):
        from_qkeras(FIXTURES / "mlp.json")
    with pytest.raises(FileNotFoundError, match="weights file"):
        from_qkeras(FIXTURES / "mlp.json", weights=tmp_path / "missing.weights.h5")
    with pytest.raises(ValueError, match="not a Keras 2 full-model"):
        from_qkeras(FIXTURES / "mlp.weights.h5")


def test_unedited_config_is_accepted(tmp_path):
    """The edits above are the only reason for each refusal."""
    from hgq.qkeras import from_qkeras

    x, y = fixture("mlp")
    proxy = from_qkeras(write_json(copy.deepcopy(mlp_config()), tmp_path), weights=FIXTURES / "mlp.weights.h5")
    assert np.array_equal(predict(proxy, x), y)


def test_string_quantizers(tmp_path):
    """QActivation("quantized_relu(8,3)") keeps the string in its config; it reads like the dict form."""
    from hgq.qkeras import from_qkeras

    config = mlp_config()
    layer(config, "q_activation")["config"]["activation"] = "quantized_bits(8, 3, 0, alpha=1)"
    layer(config, "q_activation_1")["config"]["activation"] = "quantized_relu(8,3)"
    layer(config, "q_dense_1")["config"]["kernel_quantizer"] = "quantized_bits(6, 0, keep_negative=True, alpha=1)"
    x, y = fixture("mlp")
    proxy = from_qkeras(write_json(config, tmp_path), weights=FIXTURES / "mlp.weights.h5")
    assert np.array_equal(predict(proxy, x), y)


# ----- command line --------------------------------------------------------------------------------------------

def test_cli_converts_and_saves(tmp_path, capsys):
    import keras

    from hgq_cli import main

    out = tmp_path / "cnn2d_proxy.keras"
    assert main(["convert-qkeras", str(FIXTURES / "cnn2d.json"), str(out),
                 "--weights", str(FIXTURES / "cnn2d.weights.h5")]) == 0
    assert "wrote" in capsys.readouterr().out
    x, y = fixture("cnn2d")
    assert np.array_equal(predict(keras.models.load_model(out), x), y)


def test_cli_aggressive(tmp_path):
    import keras

    from hgq_cli import main

    out = tmp_path / "mlp_proxy.keras"
    assert main(["convert-qkeras", str(FIXTURES / "mlp.h5"), str(out), "--aggressive"]) == 0
    assert {layer.SAT for layer in keras.models.load_model(out).layers if hasattr(layer, "SAT")} == {"WRAP", "SAT"}


def test_cli_errors(tmp_path, capsys):
    from hgq_cli import main

    assert main(["convert-qkeras", str(tmp_path / "missing.h5"), str(tmp_path / "out.keras")]) == 1
    assert "error:" in capsys.readouterr().err
    config = mlp_config()
    _po2_kernel(config)
    assert main(["convert-qkeras", str(write_json(config, tmp_path)), str(tmp_path / "out.keras"),
                 "--weights", str(FIXTURES / "mlp.weights.h5")]) == 1
    assert "quantized_po2" in capsys.readouterr().err
    assert not (tmp_path / "out.keras").exists()
    assert main(["convert-qkeras", str(FIXTURES / "mlp.h5"), str(tmp_path / "out.h5")]) == 1
    assert "must end in .keras" in capsys.readouterr().err


