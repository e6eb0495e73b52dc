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
        text = f"{net.description} Note: {note}" if note else net.description
        grid.rows.append([name, net.title, "x".join(map(str, net.input)), text])
    return Document(grids=[grid])
