"""Where antkit writes: atomic writes leave nothing behind when they fail, a file where a folder is expected
and a damaged record of a finished stage are clear errors."""

from __future__ import annotations

import json
import stat
import sys

import numpy as np
import pytest
import torch

import antkit
from antkit.cli import app as app_module
from antkit.components.encoders.text import HashedNgrams, HashedNgramsConfig
from antkit.data.domain import Domain
from antkit.data.store import save_domain
from antkit.errors import AntkitError, CheckpointError
from antkit.features.store import FeatureStore
from antkit.io import atomic_save, atomic_write_text, read_json_object, writable_folder
from antkit.pipeline import default_cache_dir
from antkit.training.checkpoint import save_training_state

ONE_ARM = ["arms=[{label: a, strategy: {name: relearn}}]", "adapt.epochs=1", "pretrain.epochs=1"]


def test_a_failed_atomic_write_leaves_no_partial_file(tmp_path):
    (tmp_path / "taken").mkdir()  # a folder where the file should go: replacing it fails
    with pytest.raises(AntkitError, match="taken: cannot be written"):
        atomic_write_text(tmp_path / "taken", "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_file_where_an_atomic_write_needs_a_folder(tmp_path):
    (tmp_path / "pretrain").write_text("")
    with pytest.raises(AntkitError, match="pretrain: cannot be used as a folder .the file .*pretrain is in the way"):
        atomic_save({"a": torch.zeros(1)}, tmp_path / "pretrain" / "model.safetensors")


def test_a_file_where_a_cache_folder_should_be(tmp_path):
    (tmp_path / "domains").write_text("")
    domain = Domain("office", ["i"], {}, ["u"], [np.array([1])], {})
    with pytest.raises(AntkitError, match="the file .*domains is in the way"):
        save_domain(domain, tmp_path / "domains" / "office-key")
    (tmp_path / "features").write_text("")
    store = FeatureStore(tmp_path / "features", HashedNgrams(HashedNgramsConfig(dim=8)))
    with pytest.raises(AntkitError, match="the file .*features is in the way"):
        store.features(["a kettle"])


def test_atomic_writes_have_the_usual_permissions(tmp_path):
    """As open() makes a file (0666 less the umask), safetensors files too (safetensors alone gives 0600)."""
    (tmp_path / "plain.txt").write_text("")
    atomic_save({"a": torch.zeros(1)}, tmp_path / "model.safetensors")
    atomic_write_text(tmp_path / "config.json", "{}")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes["model.safetensors"] == modes["config.json"] == modes["plain.txt"]


@pytest.mark.parametrize("content, problem", [("{bad", "not readable JSON"), ("[1]", "not a JSON object"),
                                              (b"\xff\xfe{", "not readable JSON"), (None, "not readable JSON")])
def test_json_records_are_read_strictly(tmp_path, content, problem):
    """Bad JSON, another JSON value, bytes that are not UTF-8 or a missing file: the error class chosen, naming
    the file, followed by the advice."""
    path = tmp_path / "record.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(CheckpointError, match=f"record.json: {problem}.*; delete it$"):
        read_json_object(path, CheckpointError, "; delete it")
    atomic_write_text(path, '{"a": 1}')
    assert read_json_object(path) == {"a": 1}


def test_a_file_where_a_folder_should_be(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(AntkitError, match="output folder .*afile: cannot be used as a folder"):
        writable_folder(tmp_path / "afile", "output folder")
    assert writable_folder(tmp_path / "new" / "run", "output folder").is_dir()


@pytest.mark.parametrize("command, message", [
    (["run", "{recipe}", "--out", "{file}"], "output folder {file}: cannot be used as a folder"),
    (["data", "info", "{recipe}", "--cache", "{file}"], "cache {file}: cannot be used as a folder"),
])
def test_cli_names_a_file_given_as_a_folder(tmp_path, tiny_recipe_path, monkeypatch, capsys, command, message):
    file = tmp_path / "afile"
    file.write_text("")
    values = {"recipe": str(tiny_recipe_path), "file": str(file)}
    monkeypatch.setattr(sys, "argv", ["antkit", *(part.format(**values) for part in command)])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code == 1
    assert message.format(**values) in capsys.readouterr().err.replace("\n", "")


def test_a_file_where_an_arm_folder_goes_stops_the_run_before_training(tiny_recipe_path, tmp_path):
    (tmp_path / "run" / "office").mkdir(parents=True)
    (tmp_path / "run" / "office" / "a").write_text("")
    with pytest.raises(AntkitError, match="arm 'a' folder .*office/a: cannot be used as a folder .the file .* is in"):
        antkit.run(tiny_recipe_path, tmp_path / "run", ONE_ARM, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "run" / "pretrain").exists()  # stopped before pre-training


@pytest.mark.slow
@pytest.mark.parametrize("record", ["pretrain/summary.json", "office/a/result.json"])
@pytest.mark.parametrize("damage", ["{bad", "[1]"])
def test_a_damaged_record_of_a_finished_stage_is_named(tiny_recipe_path, tmp_path, record, damage):
    first = antkit.run(tiny_recipe_path, tmp_path / "run", ONE_ARM)
    (tmp_path / "run" / record).write_text(damage)
    with pytest.raises(CheckpointError, match=f"{record}: (not readable JSON|not a JSON object).*delete it"):
        antkit.run(tiny_recipe_path, tmp_path / "run", ONE_ARM)
    (tmp_path / "run" / record).unlink()  # as the message says: the stage is finished again from its checkpoint
    again = antkit.run(tiny_recipe_path, tmp_path / "run", ONE_ARM)
    assert json.loads((tmp_path / "run" / record).read_text())["fingerprint"]
    assert again.targets["office"]["a"]["test"] == first.targets["office"]["a"]["test"]


def test_an_empty_antkit_cache_is_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("ANTKIT_CACHE", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "antkit"


@pytest.mark.parametrize("command", [
    ["run", "{recipe}", "--out"], ["run", "{recipe}", "--cache"], ["data", "prepare", "{recipe}", "--cache"],
    ["data", "info", "{recipe}", "--cache"], ["features", "build", "{recipe}", "--cache"], ["features", "info", "--cache"],
    ["combine", "{tmp}", "--out"], ["hub", "pull", "org/name", "--local-dir"]])
@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_path_to_write_to_is_refused(tiny_recipe_path, tmp_path, monkeypatch, cli_error, command, empty):
    """An empty path would be the current folder: it is refused, naming the option, and nothing is written."""
    monkeypatch.chdir(tmp_path)
    option = command[-1]
    error = cli_error(*(part.format(recipe=tiny_recipe_path, tmp=tmp_path) for part in command), empty)
    assert f"{option} {empty!r}: an empty path (it would mean the current folder); give one, e.g. {option} " in error
    assert not list(tmp_path.iterdir())


def test_an_empty_output_folder_is_refused_in_python(tiny_recipe_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AntkitError, match="output folder '': empty; give a folder"):
        antkit.run(tiny_recipe_path, "", ONE_ARM)
    assert not list(tmp_path.iterdir())


def test_a_folder_where_results_json_goes_stops_the_run_before_training(tiny_recipe_path, tmp_path):
    (tmp_path / "run" / "results.json").mkdir(parents=True)
    with pytest.raises(AntkitError, match="run/results.json: a folder, where the run writes its results.json"):
        antkit.run(tiny_recipe_path, tmp_path / "run", ONE_ARM, cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["results.json"]  # stopped before anything


def test_a_run_refused_for_other_settings_leaves_no_empty_arm_folder(tiny_recipe_path, tmp_path):
    """A folder of another recipe's run: the pre-training's checkpoint is refused, and no arm folder is made."""
    checkpoint = tmp_path / "run" / "pretrain" / "training.safetensors"
    checkpoint.parent.mkdir(parents=True)
    weight = torch.zeros(1, requires_grad=True)
    save_training_state(checkpoint, {}, {}, torch.optim.SGD([weight]), {"fingerprint": "another recipe's"})
    with pytest.raises(CheckpointError, match="training.safetensors was written by a run with other settings"):
        antkit.run(tiny_recipe_path, tmp_path / "run", ONE_ARM, cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["pretrain"]
