"""A tiny complete run through the command line and the Python API: report files and their contents."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch
import yaml
from safetensors.torch import load_file

import antkit
from antkit.recipe import load_recipe
from antkit.report.analysis import verdict

METRICS = {"recall@10", "ndcg@10", "recall@50", "ndcg@50"}
ARMS = {"relearn", "finetune", "scratch", "sasrec", "transductive"}


@pytest.mark.slow
def test_cli_run_writes_report(tiny_recipe_path, tmp_path):
    """`antkit run FILE --out DIR --set ...` prints the tables and writes results.json, report.md, report.png."""
    out = tmp_path / "run"
    completed = subprocess.run(
        [sys.executable, "-m", "antkit", "run", str(tiny_recipe_path), "--out", str(out), "--set", "adapt.epochs=1"],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "office: test metrics" in completed.stdout
    assert "negative transfer" in completed.stdout.lower()  # the verdict line, whichever way it goes
    results = json.loads((out / "results.json").read_text())
    assert results["recipe"]["adapt"]["epochs"] == 1  # the override is part of the recorded recipe
    arms = results["targets"]["office"]
    assert set(arms) == ARMS
    for arm in arms.values():
        assert set(arm["valid"]) == METRICS and set(arm["test"]) == METRICS
        assert set(arm["test_unmasked"]) == METRICS and set(arm["test_standard_errors"]) == METRICS
        assert all(0.0 <= e < 0.5 for e in arm["test_standard_errors"].values())
        assert all(0.0 <= v <= 1.0 for v in arm["test"].values())
        assert arm["test"]["recall@50"] >= arm["test"]["recall@10"]
        assert arm["epochs"] == 1
    assert results["software"]["antkit"] == antkit.__version__
    report = (out / "report.md").read_text()
    assert "## office" in report and "| relearn | relearn | content |" in report
    assert f"Made by antkit {antkit.__version__}" in report
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_python_api_run(tiny_recipe_path, tmp_path):
    """antkit.run returns the results it writes; each modality set's pre-training ran once and is recorded."""
    results = antkit.run(tiny_recipe_path, tmp_path / "api", ["arms=[{label: a, strategy: {name: relearn}}, "
                                                               "{label: b, strategy: {name: scratch}}, "
                                                               "{label: t, strategy: {name: finetune}, modalities: [text]}]"])
    assert set(results.targets["office"]) == {"a", "b", "t"}
    assert set(results.pretrain) == {"pretrain", "pretrain-text"}
    assert results.pretrain["pretrain"]["domains"] == ["kitchen", "garden"]
    assert results.pretrain["pretrain-text"]["modalities"] == ["text"]
    assert results.targets["office"]["t"]["modalities"] == ["text"]
    text_only = json.loads((tmp_path / "api" / "office" / "t" / "config.json").read_text())
    assert set(text_only["feature_dims"]) == set(text_only["encoders"]) == {"text"}
    summary = results.summaries()["office"]
    assert summary.relearn == "a" and summary.scratch == "b"
    assert summary.negative_transfer == (
        results.targets["office"]["a"]["test"]["recall@10"] < results.targets["office"]["b"]["test"]["recall@10"]
        or results.targets["office"]["a"]["test"]["ndcg@10"] < results.targets["office"]["b"]["test"]["ndcg@10"]
    )
    stored = json.loads((tmp_path / "api" / "results.json").read_text())
    assert stored["targets"]["office"]["a"]["test"] == results.targets["office"]["a"]["test"]
    arms, comparison = stored["targets"]["office"], stored["relearn_vs_scratch"]["office"]
    assert (comparison["relearn"], comparison["scratch"]) == ("a", "b") and summary.paired
    for metric in METRICS:  # the paired difference is the difference of the arms' means
        assert math.isclose(comparison["difference"][metric], arms["a"]["test"][metric] - arms["b"]["test"][metric],
                            abs_tol=1e-9)
    values = load_file(tmp_path / "api" / "office" / "b" / "test_values.safetensors")
    assert math.isclose(float(values["ndcg@10"].mean()), arms["b"]["test"]["ndcg@10"], rel_tol=1e-9)
    assert len(values["ndcg@10"]) == comparison["users"]
    for folder in ("pretrain", "office/a"):  # every finished model: weights beside the config that rebuilds them
        config = json.loads((tmp_path / "api" / folder / "config.json").read_text())
        assert config["model"]["backbone"]["name"] == "sasrec"
        assert set(config["feature_dims"]) == {"text", "image", "price"}
        assert (tmp_path / "api" / folder / "model.safetensors").exists()
    assert json.loads((tmp_path / "api" / "office" / "a" / "config.json").read_text())["strategy"]["name"] == "relearn"


def test_excluding_history_never_lowers_metrics(tiny_recipe_path, tmp_path):
    """Removing the user's own items from the ranking can only move the target up: masked >= unmasked."""
    results = antkit.run(tiny_recipe_path, tmp_path / "m", ["arms=[{label: s, strategy: {name: scratch}}]",
                                                             "adapt.epochs=1"])
    arm = results.targets["office"]["s"]
    for metric in METRICS:
        assert arm["test"][metric] >= arm["test_unmasked"][metric] - 1e-12


@pytest.mark.slow
def test_per_user_values_of_an_older_finished_arm_are_recovered(tiny_recipe_path, tmp_path):
    """An arm finished before antkit kept per-user values is reused, and its values recovered from its saved model
    when that reproduces its stored metrics; when it does not, or its model is gone, the verdict combines the arms'
    standard errors as if independent."""
    arms = ["arms=[{label: a, strategy: {name: relearn}}, {label: b, strategy: {name: scratch}}]", "adapt.epochs=1"]
    first = antkit.run(tiny_recipe_path, tmp_path / "r", arms)
    values_file = tmp_path / "r" / "office" / "b" / "test_values.safetensors"
    kept = load_file(values_file)
    values_file.unlink()
    again = antkit.run(tiny_recipe_path, tmp_path / "r", arms)
    assert again.targets["office"]["b"]["test"] == first.targets["office"]["b"]["test"]  # reused, not re-run
    assert all(torch.equal(load_file(values_file)[m], kept[m]) for m in kept)
    assert again.relearn_vs_scratch == first.relearn_vs_scratch

    values_file.unlink()  # and the stored result no longer matches what its model scores
    result_file = tmp_path / "r" / "office" / "b" / "result.json"
    result = json.loads(result_file.read_text())
    result["test"]["recall@10"] += 0.01
    result_file.write_text(json.dumps(result))
    third = antkit.run(tiny_recipe_path, tmp_path / "r", arms)
    assert not values_file.exists() and third.relearn_vs_scratch == {}
    summary = third.summaries()["office"]
    assert not summary.paired and summary.differences and "paired" not in verdict(summary)

    (tmp_path / "r" / "office" / "b" / "model.safetensors").unlink()  # nothing left to recover from: no error
    assert antkit.run(tiny_recipe_path, tmp_path / "r", arms).relearn_vs_scratch == {}


@pytest.mark.slow
def test_damaged_per_user_values_leave_the_report_unpaired(tiny_recipe_path, tmp_path):
    arms = ["arms=[{label: a, strategy: {name: relearn}}, {label: b, strategy: {name: scratch}}]", "adapt.epochs=1"]
    antkit.run(tiny_recipe_path, tmp_path / "r", arms)
    (tmp_path / "r" / "office" / "a" / "test_values.safetensors").write_bytes(b"damaged")
    again = antkit.run(tiny_recipe_path, tmp_path / "r", arms)
    assert again.relearn_vs_scratch == {} and not again.summaries()["office"].paired
    assert (tmp_path / "r" / "report.md").exists()


def test_overrides_apply_to_a_recipe_given_as_a_dict_or_a_validated_recipe(tiny_recipe_path, tmp_path, registry):
    """antkit.run's overrides work whatever form the recipe comes in (they used to be ignored but for files)."""
    overrides = ["arms=[{label: s, strategy: {name: scratch}}]", "adapt.epochs=1"]
    as_dict = yaml.safe_load(tiny_recipe_path.read_text())
    validated = load_recipe(tiny_recipe_path, registry)
    for form, folder in ((as_dict, "dict"), (validated, "validated")):
        results = antkit.run(form, tmp_path / folder, overrides, registry=registry)
        assert list(results.targets["office"]) == ["s"] and results.recipe["adapt"]["epochs"] == 1
    assert as_dict["adapt"]["epochs"] == 2  # the caller's dict is left as it was


@pytest.mark.slow
@pytest.mark.slow
def test_an_ablation_of_relearn_is_shown_as_one_and_not_taken_for_ant(tiny_recipe_path, tmp_path):
    """A relearn arm with changed settings, listed first, is neither the report's ANT arm nor a baseline; the
    table shows its settings."""
    arms = ["arms=[{label: keep text, strategy: {name: relearn, keep_adaptors: [text]}}, "
            "{label: ANT, strategy: {name: relearn}}, {label: scratch, strategy: {name: scratch}}]"]
    results = antkit.run(tiny_recipe_path, tmp_path / "run", arms + ["adapt.epochs=1"])
    summary = results.summaries()["office"]
    assert (summary.relearn, summary.scratch) == ("ANT", "scratch")
    assert set(summary.best_baseline.values()) == {"scratch"}
    stored = results.targets["office"]
    assert stored["keep text"]["strategy_settings"] == {"keep_adaptors": ["text"]}
    assert stored["ANT"]["strategy_settings"] == {}
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| keep text | relearn (keep_adaptors: [text]) | content |" in report
    assert "| ANT | relearn | content |" in report


def test_arm_labels_with_brackets_are_shown_as_written(tiny_recipe_path, tmp_path):
    """Labels are plain text, not console markup: "[text]" stays, "[/x]" does not break the run."""
    arms = "arms=[{label: 'ANT [text]', strategy: {name: scratch}}, {label: 'scratch [/x]', strategy: {name: scratch}}]"
    completed = subprocess.run(
        [sys.executable, "-m", "antkit", "run", str(tiny_recipe_path), "--out", str(tmp_path / "run"),
         "--set", arms, "--set", "adapt.epochs=1"], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "ANT [text]" in completed.stdout and "scratch [/x]" in completed.stdout
