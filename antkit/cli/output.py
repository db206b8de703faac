"""Where the CLI prints: a rich console that keeps wide tables whole when the output is not a terminal."""

from __future__ import annotations

import sys

from rich.console import Console


def stdout_console() -> Console:
    """The terminal's width on a terminal; 160 columns when piped or logged (rich would assume 80)."""
    return Console() if sys.stdout.isatty() else Console(width=160)
