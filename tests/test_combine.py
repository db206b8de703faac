"""``antkit combine``: means and spreads over runs, under either ranking protocol, and clear errors."""

from __future__ import annotations

import json
import sys

import pytest

from antkit.cli import app as app_module
from antkit.report.combine import combine, load_runs, relearn_vs_scratch, render_combined


def metrics(r10: float) -> dict[str, float]:
    return {"recall@10": r10, "ndcg@10": r10 / 2, "recall@50": 2 * r10, "ndcg@50": r10}


def write_run(folder, relearn: float, scratch: float):
    folder.mkdir()
    targets = {"office": {
        "ANT": {"strategy": "relearn", "items": "content", "test": metrics(relearn),
                "test_unmasked": metrics(relearn - 0.1), "seconds": 10.0},
        "scratch": {"strategy": "scratch", "items": "content", "test": metrics(scratch),
                    "test_unmasked": metrics(scratch - 0.1), "seconds": 20.0},
    }}
    (folder / "results.json").write_text(json.dumps({"recipe": {"evaluation": {"exclude_history": True}},
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


def test_cli_writes_markdown_and_reports_bad_folder(tmp_path, monkeypatch, capsys):
    write_run(tmp_path / "a", 0.4, 0.3)
    monkeypatch.setattr(sys, "argv", ["antkit", "combine", str(tmp_path / "a"), "--out", str(tmp_path / "t.md")])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code in (0, None)
    assert "### office" in (tmp_path / "t.md").read_text()
    monkeypatch.setattr(sys, "argv", ["antkit", "combine", str(tmp_path / "missing")])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    assert exited.value.code == 1
    assert "missing/results.json: no such file" in capsys.readouterr().err.replace("\n", "")


def test_missing_protocol_and_folder_as_out_are_clear_errors(tmp_path, monkeypatch, capsys):
    run = write_run(tmp_path / "a", 0.4, 0.3)
    results = json.loads((run / "results.json").read_text())
    del results["targets"]["office"]["ANT"]["test_unmasked"]
    (run / "results.json").write_text(json.dumps(results))
    for argv, message in ([["combine", str(run), "--unmasked"], "arm 'ANT' has no test metrics with the history kept"],
                          [["combine", str(run), "--out", str(tmp_path)], "is a folder; give a file name"]):
        monkeypatch.setattr(sys, "argv", ["antkit", *argv])
        with pytest.raises(SystemExit) as exited:
            app_module.main()
        assert exited.value.code == 1
        assert message in capsys.readouterr().err.replace("\n", "")
    assert not list(tmp_path.glob(".*partial"))
