"""``antkit hub``: push checkpoints to the Hugging Face Hub, pull them, and show what one holds."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from antkit import hub
from antkit.cli.output import stdout_console
from antkit.cli.paths import path_to_write

app = typer.Typer(help="Pre-trained checkpoints on the Hugging Face Hub.", no_args_is_help=True)

REVISION = typer.Option(None, "--revision", help="branch, tag or commit (default: main)")


@app.command()
def push(
    path: Path = typer.Argument(..., help="a run folder (its pre-trained model is pushed) or a checkpoint folder"),
    repo_id: str = typer.Argument(..., help="ORG/NAME on the Hub"),
    private: bool = typer.Option(False, "--private", help="create the repository as private"),
    revision: Optional[str] = REVISION,
) -> None:
    """Upload a checkpoint with a generated model card (token: HF_TOKEN or `hf auth login`)."""
    url = hub.push(path, repo_id, private=private, revision=revision)
    stdout_console().print(f"pushed {hub.checkpoint_folder(path)} to {repo_id}: {url}", markup=False)


@app.command()
def pull(
    repo_id: str = typer.Argument(..., help="ORG/NAME on the Hub"),
    revision: Optional[str] = REVISION,
    local_dir: Optional[Path] = typer.Option(None, "--local-dir", parser=path_to_write("--local-dir", "checkpoints/NAME"),
                                             help="copy the files here: a new or empty folder, or that of an "
                                                  "earlier pull of the same repository (default: the Hub cache)"),
) -> None:
    """Download a checkpoint; later runs use the cached copy, also offline (HF_HUB_OFFLINE=1)."""
    folder = hub.pull(repo_id, revision, local_dir)
    stdout_console().print(f"{repo_id}{'@' + revision if revision else ''}: {folder}", markup=False)


@app.command()
def info(repo_id: str = typer.Argument(..., help="ORG/NAME on the Hub"), revision: Optional[str] = REVISION) -> None:
    """The commit, files, components, encoders and feature sizes of a Hub checkpoint."""
    details = hub.info(repo_id, revision)
    config = details["config"]  # checked like a local checkpoint's; its texts are shown as written, not as markup
    console = stdout_console()
    console.print(f"{repo_id} @ {details['revision']} (commit {details['commit']}): {', '.join(details['files'])}",
                  markup=False)
    table = Table(title="components", title_justify="left")
    for column in ("kind", "name", "from"):
        table.add_column(column)
    for component in config["components"]:
        table.add_row(*(escape(str(text)) for text in (component["kind"], component["name"],
                                                        component.get("distribution") or "antkit (built in)")))
    console.print(table)
    console.print("feature sizes: " + ", ".join(f"{m} {d}" for m, d in config["feature_dims"].items())
                  + f"; {_trained_on(config)}; antkit {config.get('antkit_version', '?')}", markup=False)


def _trained_on(config: dict) -> str:
    """What a checkpoint was trained on: its pre-training's domains, or the domain an adapted arm learned."""
    if config.get("stage") == "adapt":
        strategy = (config.get("strategy") or {}).get("name", "?")
        return f"adapted to: {config.get('domain')} (strategy {strategy}, items {config.get('items')})"
    return f"pre-trained on: {', '.join(config.get('domains', [])) or 'not recorded'}"
