"""Where the CLI prints: a rich console that keeps wide tables whole when the output is not a terminal, and
warnings on standard error."""

from __future__ import annotations

import sys

from rich.console import Console


def stdout_console() -> Console:
    """The terminal's width on a terminal; 160 columns when piped or logged (rich would assume 80)."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def warn(message: str) -> None:
    """``warning: MESSAGE`` on standard error, the message as written (not rich markup)."""
    console = Console(stderr=True, soft_wrap=True)
    console.print("[bold yellow]warning:[/] ", end="")
    console.print(message, highlight=False, markup=False)
