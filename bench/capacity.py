"""Write and read capacity of DynamoDB calls: as DynamoDB Local reported it, or computed from
item sizes by AWS's documented rules where Local reports nothing or reports it wrong.

Computed, not reported:
- refused writes: an error answer carries no ConsumedCapacity (on AWS either), though AWS bills it;
- TransactWriteItems: DynamoDB Local 3.3.1 counts items of equal size once (two 10-byte puts:
  2.0 units, where AWS documents 4), so its number is kept only as `local_reported_units`.
Reported PutItem units are checked against the computation (`disagreements`), which tests the
size model below against the engine.

Item size, per the DynamoDB Developer Guide ("Item sizes and formats"): the UTF-8 bytes of each
attribute name plus its value; a string is its UTF-8 bytes, a number 1 byte per two significant
digits plus 1, a boolean or null 1 byte, a map or list 3 bytes plus 1 byte and the size of each
element.

Units, per the Developer Guide ("DynamoDB read and write operations", "Transactions: capacity
management") and AWS's announcement of ReturnValuesOnConditionCheckFailure (2023-06-30):
- a write takes 1 WCU per started KB of the larger of the old and the new item; a conditional
  write that is refused still takes them;
- a transactional write takes 2 WCU per started KB of each item (prepare and commit);
- the ALL_OLD image of a refused write comes at no additional cost.
AWS documents no price for a transaction cancelled by a failed condition; it is computed here as
if it had committed (2 WCU per KB per item), so for a cancelled transaction it is an upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bench.instrument import Call

KB = 1024
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"})
REPORTED = "reported"
COMPUTED = "computed"


def attribute_value_size(value: Mapping[str, Any]) -> int:
    ((kind, content),) = value.items()
    return _VALUE_SIZE[kind](content)


def _number_size(number: str) -> int:
    return math.ceil(_significant_digits(number) / 2) + 1


def _text_size(text: str | bytes) -> int:
    return len(text.encode("utf-8") if isinstance(text, str) else text)


_VALUE_SIZE: dict[str, Callable[[Any], int]] = {
    "S": _text_size,
    "B": _text_size,
    "N": _number_size,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "M": lambda members: 3 + sum(1 + item_size({k: v}) for k, v in members.items()),
    "L": lambda elements: 3 + sum(1 + attribute_value_size(v) for v in elements),
    "SS": lambda texts: sum(map(_text_size, texts)),
    "BS": lambda blobs: sum(map(_text_size, blobs)),
    "NS": lambda numbers: sum(map(_number_size, numbers)),
}


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode("utf-8")) + attribute_value_size(v) for name, v in item.items())


def _significant_digits(number: str) -> int:
    digits = number.lstrip("+-").replace(".", "").split("e")[0].split("E")[0]
    return max(len(digits.strip("0")), 1)


def write_units(*sizes: int) -> int:
    return max(1, math.ceil(max(sizes) / KB))


def computed_units(call: Call) -> float | None:
    """The documented capacity of a PutItem or TransactWriteItems call, from its items."""
    if call.operation == "PutItem":
        old = call.parsed.get("Item") or {}
        return float(write_units(item_size(call.params["Item"]), item_size(old)))
    if call.operation == "TransactWriteItems":
        reasons = call.parsed.get("CancellationReasons") or [{}] * len(call.params["TransactItems"])
        units = 0
        for action, reason in zip(call.params["TransactItems"], reasons, strict=True):
            (put,) = action.values()
            new = item_size(put.get("Item", put.get("Key", {})))
            units += 2 * write_units(new, item_size(reason.get("Item") or {}))
        return float(units)
    return None


def reported_units(call: Call) -> float | None:
    consumed = call.parsed.get("ConsumedCapacity")
    if consumed is None:
        return None
    entries = consumed if isinstance(consumed, list) else [consumed]
    return float(sum(entry.get("CapacityUnits", 0.0) for entry in entries))


@dataclass(frozen=True)
class CapacityUse:
    write_units: float
    read_units: float
    sources: frozenset[str]
    local_reported_units: float
    # Calls where Local's units and the computed ones differ (expected: transactions only).
    disagreements: frozenset[str]


def capacity_of(calls: Iterable[Call]) -> CapacityUse:
    write = read = local = 0.0
    sources: set[str] = set()
    disagreements: set[str] = set()
    for call in calls:
        reported, computed = reported_units(call), computed_units(call)
        if reported is not None and computed is not None and reported != computed:
            disagreements.add(call.operation)
        local += reported or 0.0
        trusted = None if call.operation == "TransactWriteItems" else reported
        units = trusted if trusted is not None else computed
        if units is None:
            raise ValueError(f"no capacity reported or computable for {call.operation}")
        sources.add(REPORTED if trusted is not None else COMPUTED)
        if call.operation in WRITE_OPERATIONS:
            write += units
        else:
            read += units
    return CapacityUse(write, read, frozenset(sources), local, frozenset(disagreements))
