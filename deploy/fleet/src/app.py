"""Lambda entry point of the walens fleet state machine: a thin call into walens.fleet.lambda_ (``sam build`` packages
walens from this checkout with it: src/Makefile)."""

from walens.fleet.lambda_ import handler

__all__ = ["handler"]
