"""`stance serve`: the demo web app (Gradio; see stance/demo/app.py). Needs `pip install -e ".[demo]"`."""

from __future__ import annotations


def cmd_serve(args) -> int:
    from stance.cli.errors import UsageError

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    try:
        from stance.demo.app import launch  # imports gradio only when the app is built
    except ImportError as e:
        raise UsageError(str(e)) from None
    try:
        launch(args.host, args.port)
    except ImportError as e:  # gradio missing: say how to install it
        raise UsageError(str(e)) from None
    except OSError as e:  # the port is taken, or the host is not an address of this machine
        raise UsageError(str(e)) from None
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="a demo web app: paste a text, see each sentence's stance and evidence, "
                                            "correct a label")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this machine only; the demo has no authentication)")
    p.set_defaults(func=cmd_serve)
