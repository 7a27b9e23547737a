"""Rapport: informational interviews for students."""
