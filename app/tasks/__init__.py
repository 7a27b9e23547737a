"""Tasks: what to do next, made by the workflow or by hand."""
