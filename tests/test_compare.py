"""``antkit compare``: two arms of a run, user by user, against hand-computed values; and clear errors."""

from __future__ import annotations

import json
import math
import sys

import pytest
import torch
from safetensors.torch import save_file

from antkit.cli import app as app_module
from antkit.errors import AntkitError
from antkit.layout import test_values_path as values_path
from antkit.report.compare import compare_arms, render_comparison

HITS = {"relearn": [1.0, 1.0, 0.0, 1.0, 0.0], "scratch": [1.0, 0.0, 0.0, 1.0, 0.0]}


def write_run(folder, targets=("office",), labels=tuple(HITS)):
    """A run folder whose arms (``labels``, HITS's by default) have the per-user Recall@10 of HITS (NDCG@10 half
    of it)."""
    arms = {}
    for label, (strategy, hits) in zip(labels, HITS.items()):
        values = torch.tensor(hits, dtype=torch.float64)
        for target in targets:
            path = values_path(folder, target, label)
            path.parent.mkdir(parents=True)
            save_file({"recall@10": values, "ndcg@10": values / 2}, str(path))
        arms[label] = {"strategy": strategy, "items": "content",
                       "test": {"recall@10": float(values.mean()), "ndcg@10": float(values.mean()) / 2}}
    results = {"recipe": {"evaluation": {}}, "targets": {t: arms for t in targets}}
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def test_paired_difference_by_hand(tmp_path):
    """Differences [0, 1, 0, 0, 0]: mean 0.2, standard error sqrt(0.16 / 5)."""
    comparison = compare_arms(write_run(tmp_path / "run"), "relearn", "scratch")
    assert comparison["target"] == "office" and comparison["users"] == 5
    assert math.isclose(comparison["difference"]["recall@10"], 0.2)
    assert math.isclose(comparison["standard_error"]["recall@10"], math.sqrt(0.16 / 5))
    assert render_comparison(comparison)[0] == ["Recall@10", "0.6000", "0.4000", "+0.2000",
                                                f"{2 * math.sqrt(0.16 / 5):.4f}", "within"]


@pytest.mark.parametrize("arguments, message", [
    (("relearn", "nobody"), "target 'office' has no arm 'nobody' (its arms: relearn, scratch)"),
    (("relearn", "scratch", "garden"), "no target 'garden' (the run has: office)"),
])
def test_unknown_arm_or_target(tmp_path, arguments, message):
    with pytest.raises(AntkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compare_arms(write_run(tmp_path / "run"), *arguments)


def test_several_targets_need_one_chosen(tmp_path):
    run = write_run(tmp_path / "run", ("office", "sports"))
    with pytest.raises(AntkitError, match="several targets"):
        compare_arms(run, "relearn", "scratch")
    assert compare_arms(run, "relearn", "scratch", "sports")["target"] == "sports"


def test_cli_prints_the_table_and_names_a_missing_values_file(tmp_path, monkeypatch, capsys):
    run = write_run(tmp_path / "run")
    monkeypatch.setattr(sys, "argv", ["antkit", "compare", str(run), "relearn", "scratch"])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code in (0, None)
    out = capsys.readouterr().out
    assert "paired over 5 test users" in out and "+0.2000" in out and "NDCG@10" in out
    (run / "office" / "scratch" / "test_values.safetensors").unlink()
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code == 1
    error = capsys.readouterr().err.replace("\n", "")
    assert "office/scratch/test_values.safetensors: missing" in error and "Traceback" not in error


@pytest.mark.parametrize("label", ["ANT [/text]", "ANT [text]"])
def test_cli_shows_labels_as_written(tmp_path, monkeypatch, capsys, label):
    """Square brackets in an arm's label or a target's name are text, not rich markup (which would fail or
    hide them)."""
    run = write_run(tmp_path / "run", targets=("office [a]",), labels=(label, "scratch"))
    monkeypatch.setattr(sys, "argv", ["antkit", "compare", str(run), label, "scratch"])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code in (0, None)
    assert f"office [a]: {label} - scratch, paired over 5" in capsys.readouterr().out


def test_damaged_values_file_is_named(tmp_path):
    run = write_run(tmp_path / "run")
    (run / "office" / "relearn" / "test_values.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(AntkitError, match="relearn/test_values.safetensors: not a readable safetensors file"):
        compare_arms(run, "relearn", "scratch")


def test_arms_of_different_users_are_refused(tmp_path):
    run = write_run(tmp_path / "run")
    save_file({"recall@10": torch.zeros(3, dtype=torch.float64), "ndcg@10": torch.zeros(3, dtype=torch.float64)},
              str(run / "office" / "scratch" / "test_values.safetensors"))
    with pytest.raises(AntkitError, match="evaluated on different users"):
        compare_arms(run, "relearn", "scratch")


def test_an_arm_with_itself_is_refused(tmp_path):
    with pytest.raises(AntkitError, match="compare two different arms"):
        compare_arms(write_run(tmp_path / "run"), "relearn", "relearn")


@pytest.mark.parametrize("values", [{"embedding.weight": torch.zeros(3, 2)},
                                    {"recall@10": torch.ones(5, dtype=torch.bool), "ndcg@10": torch.ones(5)},
                                    {"recall@x": torch.ones(5), "ndcg@10": torch.ones(5)}])
def test_a_file_that_is_not_per_user_values_is_named(tmp_path, values):
    run = write_run(tmp_path / "run")
    save_file(values, str(run / "office" / "scratch" / "test_values.safetensors"))
    with pytest.raises(AntkitError, match="scratch/test_values.safetensors: not per-user test values"):
        compare_arms(run, "relearn", "scratch")


STRING_METRIC = {"strategy": "x", "items": "content", "test": {"recall@10": 0.1, "ndcg@10": 0.1, "ndcg@50": "0.2"}}


@pytest.mark.parametrize("content", [
    "[]", "{}", "null", '{"targets": {"office": {"a": {"strategy": "x"}}}}',
    json.dumps({"recipe": {"evaluation": {}}, "targets": {"office": {"a": STRING_METRIC}}}),
])
def test_results_of_the_wrong_shape_are_named(tmp_path, content):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text(content)
    with pytest.raises(AntkitError, match="run/results.json: (not an antkit results file|not a JSON object)"):
        compare_arms(tmp_path / "run", "a", "b")


def test_run_report_table_shows_names_as_written():
    """The run's own table (``antkit run``): a target's name and an arm's label in square brackets stay text."""
    from rich.console import Console

    from antkit.report.results import RunResults
    from antkit.report.tables import target_tables

    arm = {"strategy": "scratch", "items": "content", "epochs": 1, "seconds": 1.0,
           "test": {"recall@10": 0.1, "ndcg@10": 0.05, "recall@50": 0.2, "ndcg@50": 0.1}}
    results = RunResults({}, {"office [/a]": {"ANT [b]": arm}}, {}, {}, 1.0)
    console = Console(width=160, record=True)
    for table, _ in target_tables(results):
        console.print(table)
    text = console.export_text()
    assert "office [/a]: test metrics" in text and "ANT [b]" in text
