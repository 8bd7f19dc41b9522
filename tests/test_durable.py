"""Lambda durable functions (DurableConfig): both sources carry it, so REL022 and PERF002 see the model."""

from __future__ import annotations

from walens.scanners.account.lambda_ import function_properties


def test_account_function_keeps_durable_config() -> None:
    cfg = {"FunctionName": "orders", "Timeout": 900,
           "DurableConfig": {"ExecutionTimeout": 86400, "RetentionPeriodInDays": 14}}
    assert function_properties(cfg)["DurableConfig"] == {"ExecutionTimeout": 86400, "RetentionPeriodInDays": 14}
    assert "DurableConfig" not in function_properties({"FunctionName": "plain", "Timeout": 900})
