"""`hetcalc reproduce` (being written)."""

import click


@click.command("reproduce")
def reproduce():
    """Not available yet."""
    raise click.ClickException("'hetcalc reproduce' is not available yet")
