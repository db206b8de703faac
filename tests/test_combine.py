"""``antkit combine``: means and spreads over runs, under either ranking protocol, and clear errors."""

from __future__ import annotations

import copy
import json
import sys

import pytest
import yaml

from antkit.cli import app as app_module
from antkit.errors import AntkitError
from antkit.recipe import validate_recipe
from antkit.report.combine import MARK, combine, load_runs, relearn_vs_scratch, render_combined


def metrics(r10: float) -> dict[str, float]:
    return {"recall@10": r10, "ndcg@10": r10 / 2, "recall@50": 2 * r10, "ndcg@50": r10}


def write_run(folder, relearn: float, scratch: float, **recipe):
    """A run folder with a relearn and a scratch arm; ``recipe``: fields of its recipe besides the evaluation."""
    folder.mkdir()
    targets = {"office": {
        "ANT": {"strategy": "relearn", "items": "content", "test": metrics(relearn),
                "test_unmasked": metrics(relearn - 0.1), "seconds": 12.0, "train_seconds": 10.0},
        "scratch": {"strategy": "scratch", "items": "content", "test": metrics(scratch),
                    "test_unmasked": metrics(scratch - 0.1), "seconds": 23.0, "train_seconds": 20.0},
    }}
    (folder / "results.json").write_text(json.dumps({"recipe": {"evaluation": {"exclude_history": True}, **recipe},
                                                     "targets": targets}))
    return folder


def test_mean_and_sample_std(tmp_path):
    runs = load_runs([write_run(tmp_path / "a", 0.4, 0.45), write_run(tmp_path / "b", 0.6, 0.45)])
    office = combine(runs)["office"]
    assert office["ANT"]["runs"] == 2
    assert office["ANT"]["mean"]["recall@10"] == pytest.approx(0.5)
    assert office["ANT"]["std"]["recall@10"] == pytest.approx(0.1414, abs=1e-4)  # sample std of 0.4, 0.6
    assert office["scratch"]["std"]["ndcg@10"] == 0.0
    assert combine(runs, "unmasked")["office"]["ANT"]["mean"]["recall@10"] == pytest.approx(0.4)
    text = render_combined(combine(runs), "masked")
    assert "| ANT | 2 | **0.5000 ± 0.1414** |" in text  # the best mean is bold
    assert "| scratch | 2 | 0.4500 ± 0.0000 |" in text
    assert "| NDCG@50 | training s |" in text and text.count(" | 10 |") == 1  # steps' time (not seconds: 12)


def test_relearn_minus_scratch_within_each_run(tmp_path):
    """Paired by run: differences 0.4 - 0.45 and 0.6 - 0.45 -> mean +0.05, sample std 0.1414; the line says
    whether relearn is below scratch on average."""
    runs = load_runs([write_run(tmp_path / "a", 0.4, 0.45), write_run(tmp_path / "b", 0.6, 0.45)])
    office = relearn_vs_scratch(runs)["office"]
    assert (office["relearn"], office["scratch"], office["runs"]) == ("ANT", "scratch", 2)
    assert office["mean"]["recall@10"] == pytest.approx(0.05) and office["mean"]["ndcg@10"] == pytest.approx(0.025)
    assert office["std"]["recall@10"] == pytest.approx(0.1414, abs=1e-4)
    text = render_combined(combine(runs), "masked", relearn_vs_scratch(runs))
    assert ("ANT - scratch within each run, mean ± standard deviation over 2 runs: Recall@10 +0.0500 ± 0.1414, "
            "NDCG@10 +0.0250 ± 0.0707; no negative transfer on average.") in text
    worse = load_runs([write_run(tmp_path / "c", 0.3, 0.45)])
    assert "negative transfer on average (Recall@10, NDCG@10)" in render_combined(
        combine(worse), "masked", relearn_vs_scratch(worse))


def test_cli_writes_markdown_and_reports_bad_folder(tmp_path, monkeypatch, cli_error):
    write_run(tmp_path / "a", 0.4, 0.3)
    monkeypatch.setattr(sys, "argv", ["antkit", "combine", str(tmp_path / "a"), "--out", str(tmp_path / "t.md")])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code in (0, None)
    assert "### office" in (tmp_path / "t.md").read_text()
    assert "missing/results.json: no such file" in cli_error("combine", tmp_path / "missing")


def test_missing_protocol_and_folder_as_out_are_clear_errors(tmp_path, cli_error):
    run = write_run(tmp_path / "a", 0.4, 0.3)
    results = json.loads((run / "results.json").read_text())
    del results["targets"]["office"]["ANT"]["test_unmasked"]
    (run / "results.json").write_text(json.dumps(results))
    for argv, message in ([["combine", run, "--unmasked"], "arm 'ANT' has no test metrics with the history kept"],
                          [["combine", run, "--out", tmp_path], "is a folder; give a file name"]):
        assert message in cli_error(*argv)
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("damage, problem", [
    (lambda r: r.update(recipe=None), "no 'recipe' with its 'evaluation' settings"),
    (lambda r: r["recipe"].update(evaluation=None), "no 'recipe' with its 'evaluation' settings"),
    (lambda r: r["recipe"]["evaluation"].update(exclude_history="yes"),
     "recipe.evaluation.exclude_history is not true or false"),
    (lambda r: r["targets"]["office"]["ANT"]["test"].update({"recall@50": "0.5"}),
     "targets.office.ANT.test is not a table of finite numbers"),
    (lambda r: r["targets"]["office"]["ANT"]["test"].update({"ndcg@10": float("inf")}),
     "targets.office.ANT.test is not a table of finite numbers"),
    (lambda r: r["targets"]["office"]["scratch"]["test_unmasked"].update({"recall@10": None}),
     "targets.office.scratch.test_unmasked is not a table of finite numbers"),
    (lambda r: r["targets"]["office"]["ANT"].update(seconds="10"), "targets.office.ANT.seconds is '10', not a finite"),
    (lambda r: r["targets"]["office"]["ANT"].update(train_seconds=None), "targets.office.ANT.train_seconds is None"),
    (lambda r: r["targets"]["office"]["ANT"].pop("items"), "targets.office.ANT has no strategy and items (strings)"),
    (lambda r: r["targets"]["office"]["ANT"].update(strategy_settings="keep"),
     "targets.office.ANT.strategy_settings is not a table of settings"),
])
def test_results_of_another_shape_name_the_field(tmp_path, cli_error, damage, problem):
    """One check of a results.json (shared with compare and hub push): a clear error, never a traceback."""
    run = write_run(tmp_path / "a", 0.4, 0.3)
    results = json.loads((run / "results.json").read_text())
    damage(results)
    (run / "results.json").write_text(json.dumps(results))
    error = cli_error("combine", run, write_run(tmp_path / "b", 0.4, 0.3))
    assert f"a/results.json: not an antkit results file ({problem}" in error


def test_runs_of_one_recipe_and_other_seeds_combine(tmp_path):
    """As docs/results.md runs them: seeds 1 and 2 start from seed 0's pre-training, with other checkpoint
    minutes; a generated world's seed (data.source.seed) may differ too."""
    model = {"dim": 16}
    runs = load_runs([write_run(tmp_path / "s0", 0.4, 0.3, seed=0, pretrained=None, model=model),
                      write_run(tmp_path / "s1", 0.6, 0.3, seed=1, pretrained=str(tmp_path / "s0"), model=model,
                                checkpoint_minutes=3.0, data={"source": {"seed": 1}})])
    assert combine(runs)["office"]["ANT"]["runs"] == 2


@pytest.mark.parametrize("second, problem", [
    ({"model": {"dim": 32}}, "(model.dim: 16 in {a}, 32 in {b})"),
    ({"model": {"dim": 16}, "arms": [{"label": "x"}]}, "(arms.0.label: not set (its default) in {a}, 'x' in {b})"),
])
def test_runs_of_different_recipes_are_refused(tmp_path, cli_error, second, problem):
    """A mean over different recipes means nothing: the error names both folders and the first differing field."""
    a = write_run(tmp_path / "a", 0.4, 0.3, seed=0, model={"dim": 16})
    b = write_run(tmp_path / "b", 0.6, 0.3, seed=1, **second)
    error = cli_error("combine", a, b)
    assert f"{a} and {b} are runs of different recipes {problem.format(a=a, b=b)}" in error


def test_a_field_an_older_run_did_not_record_counts_as_its_default(tmp_path, tiny_recipe_path, registry):
    """Runs made before a recipe field existed combine with newer ones when the newer ones keep its default."""
    recipe = validate_recipe(yaml.safe_load(tiny_recipe_path.read_text()), registry).model_dump(mode="json")
    older = copy.deepcopy(recipe)
    del older["adapt"]["weight_decay"]
    runs = load_runs([write_run(tmp_path / "new", 0.4, 0.3, **recipe), write_run(tmp_path / "old", 0.5, 0.3, **older)])
    assert combine(runs)["office"]["ANT"]["runs"] == 2
    older["adapt"]["weight_decay"] = 0.1
    with pytest.raises(AntkitError, match=r"\(adapt.weight_decay: 0.0 in .*new, 0.1 in .*other\)"):
        load_runs([tmp_path / "new", write_run(tmp_path / "other", 0.5, 0.3, **older)])


def test_the_same_run_twice_is_refused(tmp_path):
    run = write_run(tmp_path / "a", 0.4, 0.3)
    with pytest.raises(AntkitError, match="are the same run folder; give each run once"):
        load_runs([run, tmp_path / "." / "a"])


def test_out_replaces_only_a_file_combine_wrote(tmp_path, monkeypatch, capsys, cli_error):
    """A run's results.json or a recipe given as --out is refused and kept as it was; combine's own file (its
    first line marks it) is replaced."""
    run = write_run(tmp_path / "a", 0.4, 0.3)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 0\n")
    for path in (run / "results.json", recipe):
        before = path.read_bytes()
        assert f"{path}: an existing file that antkit combine did not write; give another path" in cli_error(
            "combine", run, "--out", path)
        assert path.read_bytes() == before
    table = tmp_path / "t.md"
    for _ in range(2):
        monkeypatch.setattr(sys, "argv", ["antkit", "combine", str(run), "--out", str(table)])
        with pytest.raises(SystemExit) as exited:
            app_module.main()
        assert exited.value.code in (0, None)
    assert table.read_text().startswith(MARK + "\nTest metrics (history excluded)")
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("out", ["", " "])
def test_an_empty_out_is_refused(tmp_path, monkeypatch, cli_error, out):
    monkeypatch.chdir(tmp_path)
    run = write_run(tmp_path / "a", 0.4, 0.3)
    assert f"--out {out!r}: an empty path (it would mean the current folder)" in cli_error("combine", run, "--out", out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_a_run_lacking_an_arm_is_named_and_one_run_has_no_spread(tmp_path, monkeypatch, capsys):
    """The run without 'scratch' gets a warning (on stderr and in the markdown); an arm of a single run shows its
    value alone, not '± 0.0000', and so does relearn - scratch."""
    write_run(tmp_path / "a", 0.4, 0.3)
    lacking = write_run(tmp_path / "b", 0.6, 0.3)
    results = json.loads((lacking / "results.json").read_text())
    del results["targets"]["office"]["scratch"]
    (lacking / "results.json").write_text(json.dumps(results))
    monkeypatch.setattr(sys, "argv", ["antkit", "combine", str(tmp_path / "a"), str(lacking), "--out",
                                      str(tmp_path / "t.md")])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code in (0, None)
    captured = capsys.readouterr()
    warning = f"{lacking} has no arm 'scratch' on office: that arm's mean is over 1 of 2 runs"
    assert f"warning: {warning}" in captured.err.replace("\n", "")
    text = (tmp_path / "t.md").read_text()
    assert f"- Warning: {warning}." in text and "| scratch | 1 | 0.3000 | 0.1500 | 0.6000 | 0.3000 | 20 |" in text
    assert ("ANT - scratch in the one run that has both (no spread): Recall@10 +0.1000, NDCG@10 +0.0500; no "
            "negative transfer on average.") in text
    assert "± 0.0000" not in text and "over 1 runs" not in text
    single = combine(load_runs([tmp_path / "a"]))["office"]["ANT"]
    assert single["std"] == dict.fromkeys(single["mean"])  # no spread from one run, rather than 0
