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
    """Markdown with Hub front matter, for the checkpoint whose ``config.json`` is ``config``: a pre-trained
    model (to adapt), or an adapted arm (to recommend with; ``results`` is then its result.json, if any)."""
    adapted = config.get("stage") == "adapt"
    lines = ["---", "library_name: antkit", "tags:", "- antkit", "- recommendation", "- sequential-recommendation",
             "- ant", "---", "", f"# {repo_id}", "",
             f"A sequential recommender {_what(config)} with antkit following ANT "
             "(\"Multi-modality Meets Re-learning: Mitigating Negative Transfer in Sequential Recommendation\", "
             "arXiv 2309.10195): item content (" + ", ".join(config["feature_dims"]) + ") through per-modality "
             f"adaptors ({_names(config, 'adaptor')}), fused ({_names(config, 'fusion')}), into a sequence backbone "
             f"({_names(config, 'backbone')}).", "", "## Training data", ""]
    lines += _adapted_data(config, results) if adapted else _pretraining_data(config)
    lines += ["## Components", "", "| kind | name | from |", "|---|---|---|", *_components(config), "",
              "Feature sizes: " + ", ".join(f"{m} {d}" for m, d in config["feature_dims"].items())
              + f". antkit {config.get('antkit_version', '?')}.", ""]
    if results and not adapted:
        lines += ["## Results of the run that produced it", "", *_results_tables(results)]
        if isinstance(results.get("software"), dict):
            lines += [f"Made by {describe(results['software'])}.", ""]
    lines += _adapted_use(config, repo_id) if adapted else _pretrained_use(repo_id)
    return "\n".join(lines)


def _what(config: dict) -> str:
    if config.get("stage") != "adapt":
        return "pre-trained"
    strategy = (config.get("strategy") or {}).get("name", "?")
    return f"adapted to the domain `{config.get('domain')}` (strategy `{strategy}`, items: {config.get('items')})"


def _pretraining_data(config: dict) -> list[str]:
    domains = config.get("domains") or []
    lines = [f"Pre-trained on: {', '.join(f'`{d}`' for d in domains) or 'not recorded'}.", ""]
    if config.get("valid"):
        lines += ["Validation (mean over those domains): " + ", ".join(
            f"{LABELS[m]} {config['valid'][m]:.4f}" for m in METRICS if m in config["valid"]) + ".", ""]
    return lines


def _adapted_data(config: dict, result: dict | None) -> list[str]:
    lines = [f"Trained on the domain `{config.get('domain')}` ({config.get('n_items', 0):,} items); its recipe is "
             "`recipe.json`.", ""]
    test = (result or {}).get("test")
    if isinstance(test, dict) and all(isinstance(test.get(m), (int, float)) for m in METRICS):
        protocol = "input items kept" if "test_masked" in result else "input items excluded"  # result.json keeps the other protocol too
        lines += [f"Test (full ranking over the domain's items, {protocol}): " + ", ".join(
            f"{LABELS[m]} {test[m]:.4f}" for m in METRICS) + ".", ""]
    return lines


def _pretrained_use(repo_id: str) -> list[str]:
    return ["## Use", "", "Adapt it to your domain by re-learning (the backbone is kept frozen; the item side is "
            "learned again on your data):", "", "```bash", f"antkit hub pull {repo_id}",
            f"antkit run my-recipe.yaml --set pretrained=hf://{repo_id}", "```", "",
            "The recipe's model section and encoders must match this checkpoint's `config.json` (antkit checks "
            "before training). From Python: `antkit.from_pretrained(\"hf://" + repo_id + "\")`.", ""]


def _adapted_use(config: dict, repo_id: str) -> list[str]:
    return ["## Use", "", f"Recommend to users of `{config.get('domain')}` (their histories are read where "
            "`recipe.json` says; `--set data.source.path=DIR` for your copy of the data):", "", "```bash",
            f"antkit recommend hf://{repo_id} USER_ID", f"antkit recommend hf://{repo_id} --history ITEM,ITEM,ITEM",
            "```", "", f"From Python: `antkit.recommend(\"hf://{repo_id}\", [\"USER_ID\"])`.", ""]
