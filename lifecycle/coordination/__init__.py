"""Coordination between agents: locks (fencing tokens) and the change feed."""
