"""Helpers shared by the test modules: environments, subprocess runners, store fixtures."""
