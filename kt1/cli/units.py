import click

@click.group("unit")
def unit_group() -> None:
    """placeholder"""

@click.group("user")
def user_group() -> None:
    """placeholder"""
