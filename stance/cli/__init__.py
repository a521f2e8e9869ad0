"""The `stance` command line: one module per command group, registered in `main`."""

from stance.cli.main import main

__all__ = ["main"]
