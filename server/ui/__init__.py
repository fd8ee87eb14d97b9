"""The dashboard: a page that shows the swarm's memory and follows it live.

``memory-lifecycle ui`` serves it on its own; ``serve --transport http`` serves it at
``/ui`` beside ``/mcp``. The page is one static HTML file, one stylesheet and one
script without a build step or a third-party library (``static/``, shipped as package
data); the script draws everything from the JSON endpoints in ``api``, which call the
engine like any other caller. Only the ``ui`` command imports this package (and
Starlette and uvicorn with it), never a hook.
"""
