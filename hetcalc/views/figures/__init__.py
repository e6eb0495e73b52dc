"""Figures: one module per figure kind, drawn with matplotlib (imported only when a figure is drawn)."""
