"""``antkit combine``: means and spreads over runs, under either ranking protocol, and clear errors."""

from __future__ import annotations

import json
import sys

import pytest

from antkit.cli import app as app_module
from antkit.report.combine import combine, load_runs, render_combined


def metrics(r10: float) -> dict[str, float]:
    return {"recall@10": r10, "ndcg@10": r10 / 2, "recall@50": 2 * r10, "ndcg@50": r10}


def write_run(folder, relearn: float, scratch: float):
    folder.mkdir()
    targets = {"office": {
        "ANT": {"test": metrics(relearn), "test_unmasked": metrics(relearn - 0.1), "seconds": 10.0},
        "scratch": {"test": metrics(scratch), "test_unmasked": metrics(scratch - 0.1), "seconds": 20.0},
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
    assert "missing/results.json: not a readable antkit results file" in capsys.readouterr().err.replace("\n", "")
