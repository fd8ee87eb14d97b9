"""The command's name, as its usage, its errors and its log lines print it.

At the bottom of the server, not in ``commands``: the log format needs it too, and
``commands`` sits above the server modules it runs."""

PROG = "memory-lifecycle"
