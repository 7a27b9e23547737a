"""Contacts and organizations: the student's private contact file."""
