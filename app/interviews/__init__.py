"""Interviews: prepare, hold and record the conversation."""
