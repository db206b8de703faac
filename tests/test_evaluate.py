"""``antkit evaluate`` / ``antkit.evaluate``: an adapted arm measured again without training reproduces the metrics
its run stored, by either protocol, from a folder, a run or the Hub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import antkit

TINY = Path(__file__).parent / "recipes" / "tiny.yaml"
ARMS = "arms=[{label: relearn, strategy: {name: relearn}}, {label: sasrec, strategy: {name: scratch}, items: ids}]"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluate") / "run"
    antkit.run(TINY, out, [ARMS], cache_dir=tmp_path_factory.getbasetemp() / "antkit-cache")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("arm", ["relearn", "sasrec"])
def test_the_stored_metrics_are_reproduced(tiny_run, arm):
    stored = json.loads((tiny_run / "office" / arm / "result.json").read_text())
    masked = antkit.evaluate(tiny_run / "office" / arm)
    kept = antkit.evaluate(tiny_run, arm=arm, exclude_history=False)
    assert masked["domain"] == "office" and masked["exclude_history"] and not kept["exclude_history"]
    for split, found in (("valid", masked["valid"]), ("test", masked["test"]), ("test_unmasked", kept["test"])):
        assert found == pytest.approx(stored[split], abs=1e-9), split
    assert masked["test_standard_errors"] == pytest.approx(stored["test_standard_errors"], abs=1e-9)
    assert masked["users"] == 192


@pytest.mark.slow
def test_cli_table_json_and_the_hub(tiny_run, local_hub, cli_output):
    stored = json.loads((tiny_run / "office" / "relearn" / "result.json").read_text())["test"]
    table = cli_output("evaluate", tiny_run, "--arm", "relearn")
    assert "office: 192 users, full ranking, input items excluded" in table and f"{stored['ndcg@10']:.4f} ±" in table
    antkit.push(tiny_run / "office" / "relearn", "antkit-tests/tiny-office")
    printed = json.loads(cli_output("evaluate", "hf://antkit-tests/tiny-office", "--json"))
    assert printed["test"] == pytest.approx(stored, abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("arguments, message", [
    (["--arm", "nope"], "target 'office' has no arm 'nope'"),
    (["--arm", "relearn", "--set", "model.dim=0"], "--set model.dim=0"),
])
def test_mistakes_are_one_clear_message(tiny_run, cli_error, arguments, message):
    assert message in cli_error("evaluate", tiny_run, *arguments)


@pytest.mark.slow
def test_a_pretraining_is_not_evaluated_here(tiny_run, cli_error):
    assert "not an adapted model" in cli_error("evaluate", tiny_run / "pretrain")


@pytest.mark.slow
def test_other_cutoffs_through_the_recipe(tiny_run):
    """``--set evaluation.ks=[...]`` measures the stored model at other cut-offs; the stored ones stay as stored."""
    stored = json.loads((tiny_run / "office" / "relearn" / "result.json").read_text())["test"]
    found = antkit.evaluate(tiny_run / "office" / "relearn", overrides=["evaluation.ks=[5, 10, 20, 50]"])["test"]
    assert set(found) == {f"{m}@{k}" for m in ("recall", "ndcg") for k in (5, 10, 20, 50)}
    assert {m: found[m] for m in stored} == pytest.approx(stored, abs=1e-9)
    assert found["recall@5"] <= found["recall@10"] <= found["recall@20"] <= found["recall@50"]
