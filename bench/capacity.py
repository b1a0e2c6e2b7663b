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
import re
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
    """The documented table capacity of a PutItem or TransactWriteItems call, from its items, or
    of any refused write (which reports nothing), from what it sent and the image it got back.

    An Update, Delete or ConditionCheck sends only the key, so its item is sized as at most
    1 KB: every item this service writes is far smaller (a conversation ~0.4 KB, a member
    ~0.2 KB), and the engine's report checks that wherever it gives one."""
    if call.operation == "PutItem":
        old = call.parsed.get("Item") or {}
        return float(write_units(item_size(call.params["Item"]), item_size(old)))
    if call.operation == "TransactWriteItems":
        reasons = call.parsed.get("CancellationReasons") or [{}] * len(call.params["TransactItems"])
        units = 0
        for action, reason in zip(call.params["TransactItems"], reasons, strict=True):
            (write,) = action.values()
            new = item_size(write.get("Item", write.get("Key", {})))
            units += 2 * write_units(new, item_size(reason.get("Item") or {}))
        return float(units)
    if call.operation in WRITE_OPERATIONS and call.refused:
        return float(write_units(item_size(call.params.get("Key", {}))))
    return None


# The table's indexes (handler/table.py): which attribute puts an item in each, and whether the
# index holds the whole item (ALL) or its keys only (KEYS_ONLY).
INDEXES = {
    "JoinIndex": ("JoinNumber", True),
    "StaffIndex": ("StaffNumber", True),
    "UserIndex": ("UserPK", False),
    "OwnedLiveIndex": ("OwnedLivePK", False),
}
_ROLE_GUARD = re.compile(r"#Role = (:v\d+)")
_MEMBER_SK = "M#"


def transaction_index_units(call: Call) -> float:
    """Index writes of a committed TransactWriteItems, by AWS's rule for a write to an item an
    index holds: 1 WCU per started KB of the index entry written, a changed index key being a
    delete and a put. Charged at the standard rate, once (AWS documents the 2x of transactions
    for the table; Local also doubles the index units, and collapses equal-sized items).

    A put is in the indexes whose key attribute it carries. An update or delete names only the
    key: a member item (SK `M#...`) is in JoinIndex and UserIndex, and in StaffIndex when its
    Role guard says owner or manager; an update rewrites the ALL-projected entries (JoinIndex,
    StaffIndex) and adds or removes entries whose key attribute it SETs or REMOVEs."""
    if call.refused:
        return 0.0
    units = 0
    for action in call.params["TransactItems"]:
        ((kind, write),) = action.items()
        if kind == "Put":
            item = write["Item"]
            for attribute, whole in INDEXES.values():
                if attribute in item:
                    units += write_units(item_size(item)) if whole else 1
            continue
        if not write["Key"]["SK"]["S"].startswith(_MEMBER_SK) or kind == "ConditionCheck":
            continue
        guard = _ROLE_GUARD.search(write.get("ConditionExpression", ""))
        values = write.get("ExpressionAttributeValues", {})
        staff = guard is not None and values.get(guard.group(1), {}).get("N") != "0"
        if kind == "Delete":
            units += 2 + int(staff)  # JoinIndex, UserIndex (+ StaffIndex)
            continue
        expression = write.get("UpdateExpression", "")
        sets, _, removes = expression.partition(" REMOVE ")
        units += 1  # the JoinIndex entry holds every attribute
        joins_or_leaves_staff = ("#StaffNumber" in removes) if staff else ("#StaffNumber" in sets)
        if staff or joins_or_leaves_staff:
            units += 1  # StaffIndex: its entry rewritten (it holds every attribute), added or gone
        if "#OwnedLivePK" in sets:
            units += 1
    return float(units)


def _reported(call: Call) -> tuple[float, float] | None:
    """(table units, index units) as the engine reported them with ReturnConsumedCapacity."""
    consumed = call.parsed.get("ConsumedCapacity")
    if consumed is None:
        return None
    table = index = 0.0
    for entry in consumed if isinstance(consumed, list) else [consumed]:
        total = float(entry.get("CapacityUnits", 0.0))
        own = float(entry["Table"]["CapacityUnits"]) if "Table" in entry else total
        table += own
        index += total - own
    return table, index


def reported_units(call: Call) -> float | None:
    reported = _reported(call)
    return None if reported is None else sum(reported)


@dataclass(frozen=True)
class CapacityUse:
    # Table write units by AWS's documented rules; index write units as the engine reported them,
    # or computed for transactions (a write to an item an index holds writes the index too:
    # JoinIndex and StaffIndex project ALL, UserIndex and OwnedLiveIndex KEYS_ONLY); read units of
    # the table and the indexes read.
    write_units: float
    index_write_units: float
    read_units: float
    sources: frozenset[str]
    local_reported_units: float
    # Calls where Local's table units and the computed ones differ (expected: transactions only).
    disagreements: frozenset[str]


def capacity_of(calls: Iterable[Call]) -> CapacityUse:
    write = index_write = read = local = 0.0
    sources: set[str] = set()
    disagreements: set[str] = set()
    for call in calls:
        reported, computed = _reported(call), computed_units(call)
        if reported is not None and computed is not None and reported[0] != computed:
            disagreements.add(call.operation)
        local += sum(reported) if reported is not None else 0.0
        if call.operation in WRITE_OPERATIONS:
            trusted = None if call.operation == "TransactWriteItems" else reported
            if trusted is None and computed is None:
                raise ValueError(f"no capacity reported or computable for {call.operation}")
            write += trusted[0] if trusted is not None else computed or 0.0
            if call.operation == "TransactWriteItems":
                index_write += transaction_index_units(call)
            else:
                index_write += reported[1] if reported is not None else 0.0
            sources.add(REPORTED if trusted is not None else COMPUTED)
        else:
            if reported is None:
                raise ValueError(f"no capacity reported for {call.operation}")
            read += sum(reported)
            sources.add(REPORTED)
    return CapacityUse(
        write, index_write, read, frozenset(sources), local, frozenset(disagreements)
    )
