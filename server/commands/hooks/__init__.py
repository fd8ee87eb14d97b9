"""The `hook` (= `hooks`) command: what Claude Code and claude-flow run around sessions,
tasks, edits and commands. The command itself is `command`; its hooks live beside it."""
