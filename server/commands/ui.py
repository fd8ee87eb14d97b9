"""``ui``: the dashboard, a web page showing the memory live (``server.ui``).

Starlette and uvicorn load inside the handler: hooks import every command module and
must stay quick.
"""

from __future__ import annotations

import argparse

from .common import port_number
from .serve import DEFAULT_HOST

DEFAULT_PORT = 8787


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ui = sub.add_parser("ui", help="serve the dashboard, a live web view of the memory")
    ui.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    ui.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    ui.add_argument("--open", action="store_true", help="open the page in a browser")
    ui.add_argument(
        "--auth-token-file",
        metavar="FILE",
        help="bearer token file (required beyond loopback; default $MEMORY_LIFECYCLE_AUTH_TOKEN)",
    )
    ui.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a host name browsers may use besides loopback and the bind address (repeatable)",
    )
    ui.set_defaults(handler=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    from server.ui.standalone import run_ui  # lazy: the web stack is for this command only

    return run_ui(
        memory_dir=args.memory_dir,
        policy_file=args.policy_file,
        store=args.store,
        host=args.host,
        port=args.port,
        open_browser=args.open,
        auth_token_file=args.auth_token_file,
        allowed_host=args.allowed_host or (),
    )


__all__ = ["cmd_ui", "register"]
