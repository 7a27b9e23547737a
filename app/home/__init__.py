"""The home page: the welcome for visitors, the dashboard for a student."""
