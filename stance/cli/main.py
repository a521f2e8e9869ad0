"""The `stance` command line. Each subcommand is a thin layer over the Python API, one module per group."""

from __future__ import annotations

import argparse
import logging
import sys

from stance.cli import curve, data, evaluate, explain, models, predict, serve, suggest
from stance.cli.errors import UsageError
from stance.labels import LABELS

COMMAND_MODULES = (predict, data, models, evaluate, curve, suggest, explain, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description="Stance on multilateral involvement: "
                                     + ", ".join(LABELS))
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from stance.corpus import CorpusError
    from stance.models.encoders import EncoderError
    from stance.models.manifest import ModelFormatError

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as e:
        print(f"stance: error: {e}", file=sys.stderr)
        return 2
    except (CorpusError, ModelFormatError, EncoderError, ValueError, TypeError, OSError) as e:
        print(f"stance {args.command}: error: {e}", file=sys.stderr)
        return 1
