"""Rendering: tables, exports, figures and the HTML report. Nothing here prints; the CLI does."""
