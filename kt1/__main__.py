"""``python -m kt1`` is the same as the ``kt1`` console script."""

from kt1.cli import main

main()
