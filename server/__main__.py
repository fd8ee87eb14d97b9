"""``python -m server [global options] [serve options]``: the stdio MCP server.

The same as ``memory-lifecycle [global options] serve``; any other subcommand
given explicitly (``python -m server stats``) runs as well.
"""

from __future__ import annotations

import sys

from server.cli import main, with_default_command

if __name__ == "__main__":
    sys.exit(main(with_default_command(sys.argv[1:], "serve")))
