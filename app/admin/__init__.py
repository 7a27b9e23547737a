"""Account administration: the list of accounts, role changes, deactivation, deletion, and the audit log."""
