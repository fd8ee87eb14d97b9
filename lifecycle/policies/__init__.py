"""Retention policies: validated data, the policy file and its schema."""
