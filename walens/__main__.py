"""Allow ``python -m walens``."""

from walens.cli import main

main()
