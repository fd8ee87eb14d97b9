"""The command's name, as its usage, its errors and its log lines print it, and the
start of its command line: the global options and the hook commands.

At the bottom of the server, not in ``commands``: the log format needs the name too,
and both the parser (``cli``) and a hook's own reader (``commands.hooks.command_line``)
read the same start of a line."""

PROG = "memory-lifecycle"
# the options given before the command that take a value -> their dest (``cli.build_parser``)
GLOBAL_VALUE_OPTIONS = {
    "--memory-dir": "memory_dir",
    "--policy-file": "policy_file",
    "--store": "store",
    "--output": "global_output",
}
HOOK_COMMANDS = ("hook", "hooks")  # the command and its claude-flow spelling
