"""report.md: one table per target domain, the verdict and relearn's gain."""

from __future__ import annotations

from antkit.provenance import describe
from antkit.report.analysis import LABELS, METRICS, gain_line, protocol_label, strategy_label, verdict


def render_markdown(results) -> str:
    protocol = protocol_label(results.recipe["evaluation"]["exclude_history"])
    lines = ["# antkit report", "",
             f"Test metrics, full ranking over all items of each target domain ({protocol}); best in bold.", ""]
    for target, summary in results.summaries().items():
        arms = results.targets[target]
        lines += [f"## {target}", "",
                  "| arm | strategy | items | " + " | ".join(LABELS[m] for m in METRICS) + " | valid NDCG@10 | epochs | seconds |",
                  "|---|---|---|" + "---:|" * (len(METRICS) + 3)]
        for label, arm in arms.items():
            cells = [f"**{arm['test'][m]:.4f}**" if label in summary.best[m] else f"{arm['test'][m]:.4f}" for m in METRICS]
            lines.append(f"| {label} | {strategy_label(arm)} | {arm['items']} | " + " | ".join(cells)
                         + f" | {arm['valid']['ndcg@10']:.4f} | {arm['epochs']} | {arm['seconds']:.1f} |")
        lines += ["", f"- {verdict(summary)}"]
        if summary.gains:
            lines.append(f"- {gain_line(summary)}")
        lines.append("")
    for p in results.pretrain.values():
        if "checkpoint" in p:
            lines += [f"Started from the checkpoint {p['checkpoint']} ({'+'.join(p['modalities'])}, pre-trained on "
                      f"{', '.join(p['domains']) or 'unrecorded domains'}).", ""]
            continue
        lines += [(f"Pre-training ({'+'.join(p['modalities'])}) on {', '.join(p['domains'])}: {p['epochs']} epochs, "
                   f"best epoch {p['best_epoch'] + 1}, valid NDCG@10 {p['valid']['ndcg@10']:.4f}, "
                   f"{p['prefixes_per_second']:.0f} training prefixes/s."), ""]
    lines.append(f"Total wall time: {results.seconds:.0f} s.")
    if results.software:
        lines.append(f"Made by {describe(results.software)}.")
    return "\n".join(lines) + "\n"
