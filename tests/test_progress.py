"""The CLI's progress reporter: a line per epoch when the output is a log file rather than a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from antkit.progress import RichReporter


def test_log_output_gets_one_line_per_epoch():
    buffer = io.StringIO()
    reporter = RichReporter(Console(file=buffer, width=120))
    reporter.stage_started("pretrain", 3)
    reporter.epoch_done("pretrain", 0, 1.5, {"ndcg@10": 0.25}, "ndcg@10")
    reporter.epoch_done("pretrain", 1, 1.25, {"ndcg@10": 0.3}, "ndcg@10")
    reporter.close()
    lines = [line for line in buffer.getvalue().splitlines() if line.startswith("pretrain: epoch")]
    assert lines == ["pretrain: epoch 1  loss 1.5000  valid ndcg@10 0.2500",
                     "pretrain: epoch 2  loss 1.2500  valid ndcg@10 0.3000"]
