"""Why uniqueness records hold a reference, not a copy: what a copy would add to the writes.

A record (single chat, IdempotentId) holding a copy of the conversation would go stale on every
ModifyConversation and member change, unless each of those writes updated the records too: up
to 2 more items. This sends the handler's own write for a ModifyConversation (one UpdateItem)
and for a one-member add (a 2-item TransactWriteItems), and the same write with 2 record items
updated beside it, alternating, and compares their capacity and latency.
"""

from __future__ import annotations

import re
import time
from typing import Any

from bench.capacity import capacity_of
from bench.stats import summary
from bench.warm import WarmBench
from bench.workload import SCENARIOS

RECORD_KEYS = (
    {"PK": {"S": "S#copy#1"}, "SK": {"S": "S"}},
    {"PK": {"S": "I#copy#1"}, "SK": {"S": "I"}},
)
_READS = {"GetItem", "BatchGetItem", "Query"}


def _record_update(table: str, key: dict[str, Any], write: dict[str, Any]) -> dict[str, Any]:
    """The conversation's update, applied to a record that holds a copy of it."""
    expression = write["UpdateExpression"]
    used = set(re.findall(r"[#:][A-Za-z0-9_]+", expression))
    update: dict[str, Any] = {"TableName": table, "Key": key, "UpdateExpression": expression}
    for field in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        kept = {alias: value for alias, value in write.get(field, {}).items() if alias in used}
        if kept:
            update[field] = kept
    return update


def _handler_write(bench: WarmBench, scenario_name: str) -> dict[str, Any]:
    scenario = next(s for s in SCENARIOS if s.name == scenario_name)
    (write,) = [c for c in bench._floor_calls(scenario) if c.operation not in _READS]
    return {"operation": write.operation, "params": write.params}


def _as_transaction(write: dict[str, Any]) -> list[dict[str, Any]]:
    if write["operation"] == "TransactWriteItems":
        return list(write["params"]["TransactItems"])
    return [{"Update": write["params"]}]


def measure(bench: WarmBench, iterations: int) -> dict[str, Any]:
    client, table = bench.client, bench.table
    conversation = client.get_item(
        TableName=table, Key={"PK": {"S": f"C#7#{bench.world.busy}"}, "SK": {"S": "C"}}
    )["Item"]
    for key in RECORD_KEYS:  # two records, each a full copy of a conversation
        client.put_item(TableName=table, Item={**conversation, **key})
    results: dict[str, Any] = {}
    for name, label in (("modify", "ModifyConversation"), ("add_new_1", "BatchAdd, 1 new member")):
        taken: dict[str, list[float]] = {"reference": [], "copy": []}
        units: dict[str, float] = {}
        for round_number in range(iterations + 1):
            for side in ("reference", "copy") if round_number % 2 else ("copy", "reference"):
                write = _handler_write(bench, name)
                conversation_write = _as_transaction(write)[0]["Update"]
                if side == "copy":
                    items = _as_transaction(write) + [
                        {"Update": _record_update(table, key, conversation_write)}
                        for key in RECORD_KEYS
                    ]
                    operation, params = "TransactWriteItems", {"TransactItems": items}
                else:
                    operation, params = write["operation"], write["params"]
                mark = len(bench.meter.calls)
                bench.meter.ask_capacity = True
                try:
                    started = time.perf_counter()
                    getattr(client, _method(operation))(**params)
                    seconds = time.perf_counter() - started
                finally:
                    bench.meter.ask_capacity = False
                units[side] = capacity_of(bench.meter.calls_since(mark)).write_units
                if round_number:  # the first round warms both up
                    taken[side].append(seconds * 1000)
        results[name] = {
            "label": label,
            **{
                side: {"write_units": units[side], **summary(values)}
                for side, values in taken.items()
            },
        }
    return results


def _method(operation: str) -> str:
    return {"UpdateItem": "update_item", "TransactWriteItems": "transact_write_items"}[operation]
