"""Where antkit writes: atomic writes leave nothing behind when they fail, a file where a folder is expected
and a damaged record of a finished stage are clear errors."""

from __future__ import annotations

import json
import sys

import pytest

import antkit
from antkit.cli import app as app_module
from antkit.errors import AntkitError, CheckpointError
from antkit.io import atomic_write_text, read_json_object, writable_folder

ONE_ARM = ["arms=[{label: a, strategy: {name: relearn}}]", "adapt.epochs=1", "pretrain.epochs=1"]


def test_a_failed_atomic_write_leaves_no_partial_file(tmp_path):
    (tmp_path / "taken").mkdir()  # a folder where the file should go: replacing it fails
    with pytest.raises(OSError):
        atomic_write_text(tmp_path / "taken", "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


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
