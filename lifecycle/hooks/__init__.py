"""What the hook commands do to memory: session end, before a task, the activity
claude-flow's hooks record, and the session memory a new session starts from."""
