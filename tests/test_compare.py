"""``antkit compare``: two arms of a run, user by user, against hand-computed values; and clear errors."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import save_file

from antkit.cli import app as app_module
from antkit.data.store import prepared_domain
from antkit.errors import AntkitError
from antkit.layout import test_values_path as values_path
from antkit.pipeline import cache_folder
from antkit.recipe.loader import validate_recipe
from antkit.report.compare import compare_arms, render_comparison
from antkit.report.groups import grouping_values, user_groups

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
    assert render_comparison(comparison)[0] == ["Recall@10", "0.6000", "0.4000", "+0.2000", "+50.0%",
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


def test_grouping_values_by_hand():
    """Training part = every item but the last two; users with fewer than 3 items are not tested."""
    sequences = [np.array([1, 2, 3, 4]), np.array([2, 3, 1]), np.array([3, 4])]
    # training parts [1, 2], [2], []: item 1 once, item 2 twice; held-out items 4 (never) and 1 (once)
    assert grouping_values(sequences, "item-popularity", 50).tolist() == [0, 1]
    assert grouping_values(sequences, "history-length", 50).tolist() == [3, 2]
    assert grouping_values(sequences, "history-length", 2).tolist() == [2, 2]


def test_user_groups_split_at_quantiles_and_keep_ties_together():
    values = np.array([5, 0, 9, 0, 1, 2, 5, 9, 0])
    # sorted 0 0 0 1 2 5 5 9 9: the lower 1/3 and 2/3 quantiles are 0 and 5
    found = [(group.low, group.high, group.rows.tolist()) for group in user_groups(values, 3)]
    assert found == [(0, 0, [1, 3, 8]), (1, 5, [0, 4, 5, 6]), (9, 9, [2, 7])]
    assert [(g.low, g.high) for g in user_groups(np.array([4, 4, 4]), 3)] == [(4, 4)]
    assert user_groups(np.array([], dtype=np.int64), 3) == []


def tiny_recipe(registry):
    return validate_recipe(yaml.safe_load((Path(__file__).parent / "recipes" / "tiny.yaml").read_text()), registry)


def tiny_run_of_values(folder, registry, first, second):
    """A run folder of the tiny recipe (not trained) whose arms 'relearn' and 'scratch' have the given per-user
    Recall@10 values (NDCG@10 the same) on target office."""
    recipe = tiny_recipe(registry).model_dump(mode="json")
    arms = {}
    for label, values in (("relearn", first), ("scratch", second)):
        path = values_path(folder, "office", label)
        path.parent.mkdir(parents=True)
        save_file({"recall@10": values, "ndcg@10": values.clone()}, str(path))
        arms[label] = {"strategy": label, "items": "content",
                       "test": {"recall@10": float(values.mean()), "ndcg@10": float(values.mean())}}
    (folder / "results.json").write_text(json.dumps({"recipe": recipe, "targets": {"office": arms}}))
    return folder


@pytest.mark.parametrize("by", ["item-popularity", "history-length"])
def test_comparison_within_groups_against_the_data(tmp_path, registry, by):
    """The groups cover every test user once, and each group's difference is that of its users, whose values
    of the grouping (counted here from the domain directly) lie in the group's range."""
    validated = tiny_recipe(registry)
    domain = prepared_domain(registry.build("data_source", validated.data.source), "office",
                             validated.data.min_interactions, cache_folder())
    tested = [s for s in domain.sequences if len(s) >= 3]
    training = Counter(int(item) for s in domain.sequences for item in s[:-2])
    expected = [training[int(s[-1])] for s in tested] if by == "item-popularity" else [len(s) - 1 for s in tested]
    generator = torch.Generator().manual_seed(0)
    first, second = (torch.randint(0, 2, (len(tested),), generator=generator).double() for _ in range(2))
    run = tiny_run_of_values(tmp_path / "run", registry, first, second)
    comparison = compare_arms(run, "relearn", "scratch", by=by, groups=3, registry=registry)
    assert comparison["by"] == by and 2 <= len(comparison["groups"]) <= 3
    seen = []
    for group in comparison["groups"]:
        rows = [row for row, value in enumerate(expected) if group["low"] <= value <= group["high"]]
        seen += rows
        assert group["users"] == len(rows)
        assert math.isclose(group["difference"]["recall@10"], float((first[rows] - second[rows]).mean()))
        assert math.isclose(group["test"][0]["recall@10"], float(first[rows].mean()))
    assert sorted(seen) == list(range(len(tested)))


def test_groups_cli_and_mistakes(tmp_path, registry, cli_output, cli_error):
    run = tiny_run_of_values(tmp_path / "run", registry, torch.ones(192, dtype=torch.float64),
                             torch.zeros(192, dtype=torch.float64))
    out = cli_output("compare", run, "relearn", "scratch", "--by", "history-length", "--groups", "2")
    assert "office: by the user's input items" in out and out.count("+1.0000") == 2 + 2 * 2
    printed = json.loads(cli_output("compare", run, "relearn", "scratch", "--by", "history-length", "--json"))
    assert printed["users"] == 192 and printed["difference"] == {"recall@10": 1.0, "ndcg@10": 1.0}
    assert sum(group["users"] for group in printed["groups"]) == 192 and printed["by"] == "history-length"
    assert "--by 'sideways': no such grouping (choose one of: item-popularity, history-length)" in cli_error(
        "compare", run, "relearn", "scratch", "--by", "sideways")
    assert "--groups 1: give at least 2 groups" in cli_error(
        "compare", run, "relearn", "scratch", "--by", "item-popularity", "--groups", "1")
    short = tiny_run_of_values(tmp_path / "short", registry, torch.ones(5, dtype=torch.float64),
                               torch.zeros(5, dtype=torch.float64))
    assert "target 'office' now has 192 test users, the run evaluated 5: its data changed" in cli_error(
        "compare", short, "relearn", "scratch", "--by", "item-popularity")


def test_an_arm_of_another_run_of_the_same_data(tmp_path, registry, cli_output, cli_error):
    """An ablation that changes the model is its own run: its arm is paired with the same-named arm of the main
    run, user by user; a run of other data or another protocol is refused, naming what differs."""
    ones, zeros = torch.ones(192, dtype=torch.float64), torch.zeros(192, dtype=torch.float64)
    main, ablation = tiny_run_of_values(tmp_path / "main", registry, ones, zeros), tmp_path / "ablation"
    tiny_run_of_values(ablation, registry, zeros, ones)
    comparison = compare_arms(main, "relearn", "relearn", second_run=ablation)
    assert comparison["difference"]["recall@10"] == 1.0 and comparison["runs"] == [str(main), str(ablation)]
    assert "relearn (main) - relearn (ablation), paired over 192" in cli_output(
        "compare", main, "relearn", "relearn", "--second-run", ablation)
    results = json.loads((ablation / "results.json").read_text())
    results["recipe"]["data"]["min_interactions"] = 4
    (ablation / "results.json").write_text(json.dumps(results))
    assert "are runs of different data or protocol (data.min_interactions: 5 against 4)" in cli_error(
        "compare", main, "relearn", "relearn", "--second-run", ablation)
    results["recipe"]["data"]["min_interactions"] = 5
    results["recipe"]["evaluation"]["exclude_history"] = False
    (ablation / "results.json").write_text(json.dumps(results))
    with pytest.raises(AntkitError, match="one ranks the input items, the other leaves them out"):
        compare_arms(main, "relearn", "relearn", second_run=ablation)
    with pytest.raises(AntkitError, match="compare two different arms"):
        compare_arms(main, "relearn", "relearn", second_run=main)
