"""Plumbing with no domain knowledge: errors, records, YAML with marks, formatting, paths, the version."""
