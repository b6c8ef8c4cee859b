import click

@click.group("envelope")
def envelope_group() -> None:
    """placeholder"""
