"""The README.md model card of a pushed checkpoint: what it is, what it was trained on, how well it does,
and how to use it."""

from __future__ import annotations

from antkit.provenance import describe
from antkit.report.analysis import LABELS, METRICS, protocol_label
from antkit.report.results import excludes_history


def _components(config: dict) -> list[str]:
    return [f"| {c['kind']} | `{c['name']}` | {c.get('distribution') or 'antkit (built in)'} |"
            for c in config["components"]]


def _results_tables(results: dict) -> list[str]:
    """Per target, the test metrics of every arm (results checked by ``read_results``)."""
    lines = []
    protocol = protocol_label(excludes_history(results))
    for target, arms in results["targets"].items():
        metrics = [m for m in METRICS if all(m in arm["test"] for arm in arms.values())]
        lines += [f"Target `{target}` (test, full ranking, {protocol}):", "",
                  "| arm | " + " | ".join(LABELS[m] for m in metrics) + " |", "|---|" + "---:|" * len(metrics)]
        lines += [f"| {label} | " + " | ".join(f"{arm['test'][m]:.4f}" for m in metrics) + " |"
                  for label, arm in arms.items()]
        lines.append("")
    return lines


def _names(config: dict, kind: str) -> str:
    """The names of the checkpoint's components of one kind, e.g. "moe" for the adaptors."""
    names = dict.fromkeys(c["name"] for c in config.get("components", []) if c["kind"] == kind)
    return ", ".join(f"`{name}`" for name in names) or "not recorded"


def render_model_card(config: dict, repo_id: str, results: dict | None = None) -> str:
    """Markdown with Hub front matter, for the checkpoint whose ``config.json`` is ``config``."""
    domains = config.get("domains") or []
    lines = ["---", "library_name: antkit", "tags:", "- antkit", "- recommendation", "- sequential-recommendation",
             "- ant", "---", "", f"# {repo_id}", "",
             "A sequential recommender pre-trained with antkit following ANT "
             "(\"Multi-modality Meets Re-learning: Mitigating Negative Transfer in Sequential Recommendation\", "
             "arXiv 2309.10195): item content (" + ", ".join(config["feature_dims"]) + ") through per-modality "
             f"adaptors ({_names(config, 'adaptor')}), fused ({_names(config, 'fusion')}), into a sequence backbone "
             f"({_names(config, 'backbone')}). Adapt it to your domain by re-learning (the backbone is kept frozen; "
             "the item side is learned again on your data).", "",
             "## Training data", "",
             f"Pre-trained on: {', '.join(f'`{d}`' for d in domains) or 'not recorded'}.", ""]
    if config.get("valid"):
        lines += ["Validation (mean over those domains): " + ", ".join(
            f"{LABELS[m]} {config['valid'][m]:.4f}" for m in METRICS if m in config["valid"]) + ".", ""]
    lines += ["## Components", "", "| kind | name | from |", "|---|---|---|", *_components(config), "",
              "Feature sizes: " + ", ".join(f"{m} {d}" for m, d in config["feature_dims"].items())
              + f". antkit {config.get('antkit_version', '?')}.", ""]
    if results:
        lines += ["## Results of the run that produced it", "", *_results_tables(results)]
        if isinstance(results.get("software"), dict):
            lines += [f"Made by {describe(results['software'])}.", ""]
    lines += ["## Use", "", "```bash", f"antkit hub pull {repo_id}",
              f"antkit run my-recipe.yaml --set pretrained=hf://{repo_id}", "```", "",
              "The recipe's model section and encoders must match this checkpoint's `config.json` (antkit checks "
              "before training). From Python: `antkit.from_pretrained(\"hf://" + repo_id + "\")`.", ""]
    return "\n".join(lines)
