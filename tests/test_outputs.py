"""Never lose a user's file: every writer of hgq (``fit_pareto``, ``ParetoFront``, ``convert_to_hls4ml``, the tuner
folder of ``optimize_model``, ``hgq pareto/export/verify/profile/convert-qkeras/demo``) refuses an output folder that
holds a file it did not write, writes beside such files only when asked to overwrite, and removes only its own."""

import json
import os

import keras
import numpy as np
import pytest

import hgq
from hgq.outputs import RECORD, OutputFolder, OutputFolderError
from hgq.proxy import convert_to_hls4ml
from hgq_cli import main

from conftest import saved_trained_mlp, trained_mlp
from test_cli_errors import error_of
from test_pareto import classification, float_mlp

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def plant(folder, name="notes.txt"):
    """A user's file in ``folder`` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("the user's own")
    return path


def intact(*paths):
    return all(path.read_text() == "the user's own" for path in paths)


@pytest.mark.once
def test_a_folder_holding_a_user_file_is_refused_by_name(tmp_path):
    user = plant(tmp_path / "out")
    with pytest.raises(OutputFolderError, match=rf"writer: the output folder {tmp_path / 'out'} holds files that hgq "
                                                r"did not write \(notes.txt\); choose a new or empty folder, or "
                                                r"overwrite"):
        OutputFolder(tmp_path / "out", "writer")
    assert intact(user) and os.listdir(tmp_path / "out") == ["notes.txt"]
    (tmp_path / "a_file").write_text("")
    with pytest.raises(OutputFolderError, match="writer: the output folder .*a_file is a file; choose a folder"):
        OutputFolder(tmp_path / "a_file", "writer")


@pytest.mark.once
def test_overwrite_writes_beside_user_files_and_removes_only_its_own(tmp_path):
    user = plant(tmp_path)
    folder = OutputFolder(tmp_path, "writer", overwrite=True)
    with pytest.raises(OutputFolderError, match=r"writer: .*notes.txt exists and hgq did not write it; it is left as "
                                                "it is"):
        folder.target("notes.txt")
    with pytest.raises(OutputFolderError, match="refusing to delete .*notes.txt: hgq did not write it"):
        folder.remove("notes.txt")
    open(folder.target("mine.csv"), "w").close()
    open(OutputFolder(tmp_path, "another writer", overwrite=True).target("theirs.csv"), "w").close()
    OutputFolder(tmp_path, "writer", overwrite=True).clear()  # what "writer" wrote, nothing else
    assert sorted(os.listdir(tmp_path)) == sorted(["notes.txt", "theirs.csv", RECORD]) and intact(user)
    assert json.loads((tmp_path / RECORD).read_text()) == {"theirs.csv": "another writer"}
    with pytest.raises(OutputFolderError, match=r"holds files that hgq did not write \(notes.txt\)"):
        OutputFolder(tmp_path, "writer")  # a folder of only hgq's files is taken; this one is not
    os.remove(user)
    OutputFolder(tmp_path, "writer")
    (tmp_path / RECORD).write_text("[1, 2]")
    with pytest.raises(OutputFolderError, match=r"is not hgq's record of its files"):
        OutputFolder(tmp_path, "writer")


def small_front(path, **kwargs):
    keras.utils.set_random_seed(0)
    x, y = classification(n=600)
    return hgq.fit_pareto(float_mlp(), x[:500], y[:500], (x[500:], y[500:]), LOSS, path=str(path), epochs=3,
                          beta=(1e-5, 1e-2), learning_rate=1e-2, verbose=False, **kwargs)


def designs(path):
    return sorted(name for name in os.listdir(path) if name.endswith(".keras"))


def test_fit_pareto_never_deletes_a_user_file_and_replaces_only_its_own_front(tmp_path):
    user = plant(tmp_path / "mixed")
    with pytest.raises(OutputFolderError, match=r"fit_pareto: the output folder .*mixed holds files that hgq did "
                                                r"not write \(notes.txt\)"):
        small_front(tmp_path / "mixed")
    assert os.listdir(tmp_path / "mixed") == ["notes.txt"]
    result = small_front(tmp_path / "mixed", overwrite=True)
    assert intact(user) and designs(result.path) == sorted(os.path.basename(p["path"]) for p in result.points)
    again = small_front(tmp_path / "mixed", overwrite=True)  # the first front is replaced, the user file stays
    assert intact(user) and designs(again.path) == sorted(os.path.basename(p["path"]) for p in again.points)
    os.remove(user)
    last = small_front(tmp_path / "mixed")  # a folder holding only a front of hgq's: taken without overwrite
    assert sorted(os.listdir(last.path)) == sorted(
        [os.path.basename(p["path"]) for p in last.points] + ["front.csv", "front.png", RECORD])
    assert again.path == last.path


@pytest.mark.once
def test_pareto_front_callback_refuses_a_user_folder_at_the_start_of_training(tmp_path):
    user = plant(tmp_path)
    model, x = trained_mlp(epochs=0)
    front = hgq.callbacks.ParetoFront(tmp_path, metrics=("loss",), sides=(min,))
    with pytest.raises(OutputFolderError, match=r"ParetoFront: the output folder .* holds files"):
        model.fit(x, x[:, :5], epochs=1, verbose=0, callbacks=[front])
    assert os.listdir(tmp_path) == ["notes.txt"] and intact(user)


@pytest.mark.once
def test_convert_to_hls4ml_refuses_a_user_folder_and_keeps_user_files_in_its_own_project(tmp_path):
    model, x = trained_mlp(epochs=0)
    proxy = hgq.to_proxy_model(model)
    user = plant(tmp_path / "busy")
    with pytest.raises(OutputFolderError, match=r"convert_to_hls4ml: the output folder .*busy holds files"):
        convert_to_hls4ml(proxy, tmp_path / "busy")
    project = tmp_path / "prj"
    convert_to_hls4ml(proxy, project).write()
    inside = plant(project)  # a note the user left in a project of ours: hls4ml writes around it
    convert_to_hls4ml(proxy, project).write()
    assert intact(user, inside) and (project / "firmware").is_dir()


@pytest.mark.once
def test_hgq_pareto_into_the_working_folder_keeps_the_users_model_and_data(tmp_path, monkeypatch, capsys):
    """The reported case: ``hgq pareto float.keras ... -o .`` deleted the model and the data it was given."""
    monkeypatch.chdir(tmp_path)
    x, y = classification(n=300)
    float_mlp().save("float.keras")
    for name, array in (("x", x[:200]), ("y", y[:200]), ("xv", x[200:]), ("yv", y[200:])):
        np.save(f"{name}.npy", array)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    args = ["pareto", "float.keras", "--data", "x.npy", "--labels", "y.npy", "--validation-data", "xv.npy",
            "--validation-labels", "yv.npy", "--epochs", "2", "-q"]
    line = error_of(capsys, args + ["-o", "."])
    assert line.startswith("error: hgq pareto: the output folder . holds files that hgq did not write (float.keras, "
                           "x.npy, xv.npy, y.npy, yv.npy); choose a new or empty folder, or overwrite")
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before
    assert main(args + ["-o", ".", "--overwrite"]) == 0
    assert all((tmp_path / name).read_bytes() == content for name, content in before.items())
    assert "front.csv" in os.listdir(tmp_path)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outputs")
    saved_trained_mlp(folder)
    return folder


@pytest.mark.once
def test_hgq_export_refuses_user_folders_and_never_writes_over_a_user_file(saved, tmp_path, capsys):
    export = ["export", str(saved / "mlp.keras"), "--data", str(saved / "x.npy"), "-q"]
    assert main(export + ["-o", str(tmp_path / "out")]) == 0
    assert main(export + ["-o", str(tmp_path / "out")]) == 0  # its own earlier output: replaced
    user = plant(tmp_path / "out")
    line = error_of(capsys, export + ["-o", str(tmp_path / "out")])
    assert line.startswith(f"error: hgq export: the output folder {tmp_path / 'out'} holds files that hgq did not "
                           "write (notes.txt)")
    assert main(export + ["-o", str(tmp_path / "out"), "--overwrite"]) == 0
    assert intact(user) and (tmp_path / "out" / "proxy.keras").is_file()
    clash = plant(tmp_path / "clash", "proxy.keras")
    line = error_of(capsys, export + ["-o", str(tmp_path / "clash"), "--overwrite"])
    assert line == (f"error: hgq export: {clash} exists and hgq did not write it; it is left as it is: move it or "
                    "choose another output")
    assert intact(clash)


@pytest.mark.once
@pytest.mark.parametrize("command", ["verify", "profile"])
def test_hgq_verify_and_profile_refuse_a_user_folder(saved, tmp_path, capsys, command):
    user = plant(tmp_path)
    args = [command, str(saved / "mlp.keras"), "--data", str(saved / "x.npy"), "-o", str(tmp_path)]
    line = error_of(capsys, args)
    assert line.startswith(f"error: hgq {command}: the output folder {tmp_path} holds files that hgq did not write "
                           "(notes.txt)")
    assert os.listdir(tmp_path) == ["notes.txt"] and intact(user)
    if command == "profile":
        assert main(args + ["--overwrite"]) == 0
        assert intact(user) and (tmp_path / "mlp_report.txt").is_file()


@pytest.mark.once
def test_hgq_convert_qkeras_never_writes_over_a_user_file(tmp_path, capsys):
    source, user = plant(tmp_path, "model.h5"), plant(tmp_path, "proxy.keras")
    line = error_of(capsys, ["convert-qkeras", str(source), str(user)])
    assert line == (f"error: hgq convert-qkeras: {user} exists and hgq did not write it; it is left as it is: move "
                    "it or choose another output")
    assert intact(user)


@pytest.mark.once
def test_hgq_demo_refuses_a_user_folder_before_training(tmp_path, capsys):
    user = plant(tmp_path)
    line = error_of(capsys, ["demo", "--epochs", "1", "--quiet", "--output-dir", str(tmp_path)])
    assert line.startswith(f"error: hgq demo: the output folder {tmp_path} holds files that hgq did not write")
    assert intact(user)


@pytest.mark.once
def test_optimize_model_refuses_a_user_folder_for_its_tuner(tmp_path):
    from test_optimization_models import nested, prune

    user = plant(tmp_path)
    with pytest.raises(OutputFolderError, match=r"optimize_model: the output folder .* holds files that hgq did not "
                                                r"write \(notes.txt\)"):
        prune(nested(), directory=str(tmp_path))
    assert os.listdir(tmp_path) == ["notes.txt"] and intact(user)
