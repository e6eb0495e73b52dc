"""`hetcalc sweep` (being written)."""

import click


@click.command("sweep")
def sweep():
    """Not available yet."""
    raise click.ClickException("'hetcalc sweep' is not available yet")
