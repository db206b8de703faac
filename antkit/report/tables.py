"""The rich tables the CLI prints at the end of a run: one per target domain."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from antkit.report.analysis import METRICS, gain_line, strategy_label, verdict

SHORT = {"recall@10": "R@10", "ndcg@10": "N@10", "recall@50": "R@50", "ndcg@50": "N@50"}


def target_tables(results) -> list[tuple[Table, list[str]]]:
    """For each target: the arms x metrics table, and the lines that follow it (verdict, gain)."""
    rendered = []
    for target, summary in results.summaries().items():
        table = Table(title=f"{escape(target)}: test metrics (best marked ★)", title_justify="left")
        table.add_column("arm", no_wrap=True)
        for column in ("strategy", "items"):
            table.add_column(column)
        for m in METRICS:
            table.add_column(SHORT[m], justify="right", no_wrap=True)
        table.add_column("epochs", justify="right")
        table.add_column("s", justify="right")
        for label, arm in results.targets[target].items():
            cells = [
                f"[bold green]★{arm['test'][m]:.4f}[/]" if label in summary.best[m] else f"{arm['test'][m]:.4f}"
                for m in METRICS
            ]
            table.add_row(escape(label), escape(strategy_label(arm)), arm["items"], *cells, str(arm["epochs"]),
                          f"{arm['seconds']:.0f}")
        notes = [verdict(summary)]
        if summary.gains:
            notes.append(gain_line(summary))
        rendered.append((table, notes))
    return rendered
