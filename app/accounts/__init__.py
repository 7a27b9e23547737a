"""Accounts: registration, sessions, the profile, API keys."""
