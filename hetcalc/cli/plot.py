"""`hetcalc plot` (being written)."""

import click


@click.command("plot")
def plot():
    """Not available yet."""
    raise click.ClickException("'hetcalc plot' is not available yet")
