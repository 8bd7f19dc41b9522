"""Lambda entry point of the walens fleet state machine: a thin call into walens.fleet.lambda_ (walens is packaged
with the function by ``sam build`` from requirements.txt)."""

from walens.fleet.lambda_ import handler

__all__ = ["handler"]
