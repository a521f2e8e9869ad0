"""`stance serve`: the demo web page (see stance/serve.py)."""

from __future__ import annotations


def cmd_serve(args) -> int:
    from stance.cli.errors import UsageError
    from stance.demo.server import serve

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    serve(args.host, args.port)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="a demo web page: paste a text, see each sentence's stance and evidence")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this machine only; the demo has no authentication)")
    p.set_defaults(func=cmd_serve)
