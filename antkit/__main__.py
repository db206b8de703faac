"""``python -m antkit`` (and ``torchrun -m antkit``) runs the command line."""

from antkit.cli.app import main

main()
