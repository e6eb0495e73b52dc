"""`hetcalc list` as a Document: the built-in architectures, one row each."""

from __future__ import annotations

from hetcalc.views.document import Document
from hetcalc.views.grid import Column, Grid


def architectures_document(networks) -> Document:
    """`networks`: (name, Network) pairs."""
    grid = Grid(title="Built-in architectures", columns=[Column(h, "left") for h in
                                                         ("name", "network", "input", "description")])
    for name, net in networks:
        note = net.meta.get("note")
        grid.rows.append([name, net.title, "x".join(map(str, net.input)),
                          net.description + (" (note below)" if note else "")])
        if note:  # what a reader must not miss: under the table, whole, not in a cell that widens it
            grid.notes.append(f"{name}: {note}")
    return Document(grids=[grid])
