"""The alumni directory: institution-wide, written by staff and integrations, searched by students."""
