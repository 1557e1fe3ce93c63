"""Replays of failure cases: every one must stay fixed."""
