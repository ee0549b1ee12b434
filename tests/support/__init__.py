"""Helpers shared by the test modules (one copy each; import them, never copy them)."""
