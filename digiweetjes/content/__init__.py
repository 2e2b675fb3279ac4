"""Editors' content: drafts (front matter + Markdown) and the project-status data."""
