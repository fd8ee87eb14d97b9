"""``serve``: the MCP server over stdio or streamable HTTP."""

from __future__ import annotations

import argparse

from lifecycle.maintenance import ENV_INTERVAL

from .common import UsageError, port_number, seconds_or_zero

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve.add_argument("--host", help=f"http: address to bind (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=port_number, help=f"http: port (default {DEFAULT_PORT})")
    serve.add_argument("--auth-token-file", metavar="FILE", help="http: bearer token file")
    serve.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="http: a host name clients may use in Host/Origin besides loopback and the bind "
        "address (repeatable; default $MEMORY_LIFECYCLE_ALLOWED_HOSTS, comma-separated; '*' = any)",
    )
    serve.add_argument(
        "--maintenance-interval",
        type=seconds_or_zero,
        metavar="SECONDS",
        help=f"background maintenance interval; 0 turns it off (default ${ENV_INTERVAL}, else 300)",
    )
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    http_only = [
        flag
        for flag, value in (
            ("--host", args.host),
            ("--port", args.port),
            ("--auth-token-file", args.auth_token_file),
            ("--allowed-host", args.allowed_host),
        )
        if value is not None
    ]
    if args.transport != "http" and http_only:
        # else `serve --port 8765` silently serves stdio and waits on the terminal
        raise UsageError(
            f"{', '.join(http_only)} {'applies' if len(http_only) == 1 else 'apply'} only to "
            "HTTP; add --transport http "
            "(the default transport, stdio, has no address)"
        )
    interval = args.maintenance_interval  # None: the server reads $ENV_INTERVAL, else 300
    from server.mcp.transports import serve  # lazy: importing mcp costs ~0.7 s, hooks never pay it

    return serve(
        memory_dir=args.memory_dir,
        policy_file=args.policy_file,
        store=args.store,
        transport=args.transport,
        host=DEFAULT_HOST if args.host is None else args.host,
        port=DEFAULT_PORT if args.port is None else args.port,
        auth_token_file=args.auth_token_file,
        maintenance_interval=interval,
        allowed_host=args.allowed_host or (),
    )
