"""walens' lens rules inside cfn-lint: ``cfn-lint --append-rules walens.cfnlint template.yaml``.

cfn-lint imports this module and instantiates every ``CloudFormationLintRule`` subclass it finds here:
one per walens rule (``COST001`` → ``W9501``; the mapping is in ``walens.cfnlint._plugin``), plus
``W9000`` for what walens could not review. Importing this module imports cfn-lint (only cfn-lint does).
"""

from __future__ import annotations

from walens.cfnlint._plugin import builtin_cfnlint_id, cfnlint_ids, rule_classes

globals().update(rule_classes())

__all__ = ["builtin_cfnlint_id", "cfnlint_ids", "rule_classes", *rule_classes()]
