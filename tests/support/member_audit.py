"""Member tests on the real engine: one handler-equivalent caller per thread, and the audit.

`Caller` runs an action exactly as `handler.app.lambda_handler` does between the gateway and
the envelope (the action's request model, `run` over a request-scoped store, `describe` for
failures), over a `DynamoDBConversationStore` and a botocore client of its own, built the way
`handler.app` builds it. It skips the gateway, authentication and telemetry: Powertools' metrics
are not thread-safe, and none of them touch storage.

`audit_conversation` reads the table afterwards and lists every broken member invariant:
MemberCount equals the member items and a full ScanConversationParticipantList, each member is
in the UserIndex exactly once, exactly one item has Role 1 and it is the conversation's Owner,
the StaffIndex holds exactly the owner and managers, and the OwnedLiveIndex exactly a live
group's owner.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from handler.actions import Dependencies
from handler.api import find_action_module
from handler.domain.ids import Entropy
from handler.domain.members import MemberLimits
from handler.domain.users import integer_user
from handler.errors import describe
from handler.request_parsing import parse_request
from handler.settings import load_settings
from handler.store import ClientSettings, DynamoDBConversationStore, create_client
from handler.table import conversation_key, conversation_pk, user_partition

APP_ID = 30
OWNER = 1
ACTIONS = (
    "BatchAddConversationParticipant",
    "BatchDeleteConversationParticipant",
    "BatchGetConversationParticipant",
    "BatchGetConversations",
    "BatchModifyConversationParticipant",
    "CreateConversation",
    "DestroyConversation",
    "GetConversationUserCount",
    "GetUserConversations",
    "IsUserInConversation",
    "ModifyConversation",
    "ScanConversationParticipantList",
)
REFUSAL_CODES = ("TransactionCanceledException", "ConditionalCheckFailedException")
# The engine shares 2 cores with up to 32 Python threads and other jobs: slower answers than the
# production 1.0 s read timeout say nothing about member guarantees (the fault tests use the
# production timeouts).
LOADED_ENGINE = {"connect_timeout": 5.0, "read_timeout": 10.0, "write_budget_seconds": 20.0}
DEFAULT_LIMITS = MemberLimits(group=200, live_group=10_000)


@dataclass
class Traffic:
    """What the engine answered, counted per call (after botocore's retries)."""

    calls: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def watch(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self._attempt)
        client.meta.events.register("after-call.dynamodb", self._answered)

    def _attempt(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        with self.lock:
            self.attempts[operation] += 1

    def _answered(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        code = parsed.get("Error", {}).get("Code")
        with self.lock:
            self.calls[model.name] += 1
            if code in REFUSAL_CODES:
                self.refusals[f"{model.name} {code}"] += 1
            for reason in parsed.get("CancellationReasons", []) or []:
                if reason.get("Code") not in (None, "None"):
                    self.reasons[str(reason["Code"])] += 1

    @property
    def refused(self) -> int:
        """Writes the engine refused on a condition (whole transactions and single updates)."""
        return sum(self.refusals.values())

    def total_calls(self) -> int:
        return sum(self.calls.values())


@dataclass(frozen=True)
class Answer:
    action: str
    body: dict[str, Any]
    status: int
    code: str | None
    result: dict[str, Any] | None
    started: float
    ended: float

    @property
    def ok(self) -> bool:
        return self.status == 200


def client_settings(endpoint: str, **overrides: Any) -> ClientSettings:
    """The production client's settings (handler.settings defaults) for `endpoint`."""
    settings = load_settings({"TABLE_NAME": "unused", "AUTH_MODE": "none"})
    values = {
        "region": "us-east-1",
        "endpoint_url": endpoint,
        "connect_timeout": settings.dynamodb_connect_timeout,
        "read_timeout": settings.dynamodb_read_timeout,
        "max_attempts": settings.dynamodb_max_attempts,
    }
    values.update(overrides)
    return ClientSettings(**values)


def preload_actions() -> None:
    """Import every action module once, before threads race to import them."""
    for action in ACTIONS:
        find_action_module(action)


class Caller:
    """One handler-equivalent over its own client and store (see the module docstring)."""

    def __init__(
        self,
        endpoint: str,
        table_name: str,
        *,
        limits: MemberLimits = DEFAULT_LIMITS,
        traffic: Traffic | None = None,
        connect_timeout: float = LOADED_ENGINE["connect_timeout"],
        read_timeout: float = LOADED_ENGINE["read_timeout"],
        write_budget_seconds: float = LOADED_ENGINE["write_budget_seconds"],
    ) -> None:
        settings = client_settings(
            endpoint, connect_timeout=connect_timeout, read_timeout=read_timeout
        )
        self.client = create_client(settings)
        if traffic is not None:
            traffic.watch(self.client)
        self.table_name = table_name
        self.store = DynamoDBConversationStore(
            self.client, table_name=table_name, write_budget_seconds=write_budget_seconds
        )
        self.limits = limits
        self.entropy = Entropy(
            now_ms=lambda: time.time_ns() // 1_000_000, random_bits=secrets.randbits
        )

    def call(self, action: str, body: dict[str, Any]) -> Answer:
        module = find_action_module(action)
        started = time.monotonic()
        try:
            request = parse_request(module.Request, json.dumps(body).encode())
            dependencies = Dependencies(self.store.for_request(), self.entropy, self.limits)
            result = module.run(request, dependencies)
        except Exception as error:  # the handler turns every failure into its envelope
            described = describe(error)
            return Answer(
                action, body, described.http_status, described.code, None, started, time.monotonic()
            )
        return Answer(
            action, body, 200, None, result.model_dump(exclude_none=True), started, time.monotonic()
        )

    def ok(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.call(action, body)
        assert answer.ok and answer.result is not None, answer
        return answer.result

    # --- the bodies the tests send ---------------------------------------------------------------

    def create_group(self, conversation_type: int = 2, owner: int = OWNER) -> int:
        body = {
            "AppId": APP_ID,
            "OwnerUserId": owner,
            "ConversationCoreInfo": {"ConversationType": conversation_type, "Name": "audited"},
        }
        return int(self.ok("CreateConversation", body)["ConversationShortId"])

    def add(self, short_id: int, users: Iterable[int], role: int | None = None) -> Answer:
        infos = [
            {"ParticipantUserId": user, **({} if role is None else {"Role": role})}
            for user in users
        ]
        return self.call(
            "BatchAddConversationParticipant",
            {
                "AppId": APP_ID,
                "ConversationShortId": short_id,
                "Operator": OWNER,
                "ParticipantInfos": infos,
            },
        )

    def remove(self, short_id: int, users: Iterable[int]) -> Answer:
        return self.call(
            "BatchDeleteConversationParticipant",
            {
                "AppId": APP_ID,
                "ConversationShortId": short_id,
                "Operator": OWNER,
                "ParticipantUserIds": list(users),
            },
        )

    def set_roles(self, short_id: int, roles: dict[int, int]) -> Answer:
        return self.call(
            "BatchModifyConversationParticipant",
            {
                "AppId": APP_ID,
                "ConversationShortId": short_id,
                "Operator": OWNER,
                "ParticipantInfos": [
                    {"ParticipantUserId": user, "Role": role} for user, role in roles.items()
                ],
            },
        )

    def transfer(self, short_id: int, new_owner: int) -> Answer:
        return self.call(
            "ModifyConversation",
            {
                "AppId": APP_ID,
                "ConversationCoreInfo": {
                    "ConversationShortId": short_id,
                    "OwnerUserId": new_owner,
                },
            },
        )

    def destroy(self, short_id: int, owner: int) -> Answer:
        return self.call(
            "DestroyConversation",
            {"AppId": APP_ID, "ConversationShortId": short_id, "OwnerUserId": owner},
        )

    def participants(self, short_id: int, users: Iterable[int]) -> dict[int, dict[str, Any]]:
        """BatchGetConversationParticipant: the members among `users`, by user id."""
        result = self.ok(
            "BatchGetConversationParticipant",
            {"AppId": APP_ID, "ConversationShortId": short_id, "ParticipantUserIds": list(users)},
        )
        return {info["ParticipantUserId"]: info for info in result["Participants"]}

    def count(self, short_id: int) -> int:
        result = self.ok(
            "GetConversationUserCount", {"AppId": APP_ID, "ConversationShortId": short_id}
        )
        return int(result["Count"])

    def scan_page(
        self, short_id: int, cursor: int, limit: int, *, reverse: bool, only_ids: bool
    ) -> dict[str, Any]:
        return self.ok(
            "ScanConversationParticipantList",
            {
                "AppId": APP_ID,
                "ConversationShortId": short_id,
                "Cursor": cursor,
                "Limit": limit,
                "Reverse": reverse,
                "OnlyUserIds": only_ids,
            },
        )

    def scan_all(
        self,
        short_id: int,
        *,
        limit: int = 50,
        reverse: bool = False,
        only_ids: bool = True,
        on_page: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Every participant a full ScanConversationParticipantList pages through, in order."""
        seen: list[dict[str, Any]] = []
        cursor = 0
        for _ in range(100_000):
            page = self.scan_page(short_id, cursor, limit, reverse=reverse, only_ids=only_ids)
            if on_page is not None:
                on_page(page)
            seen.extend(page["Participants"])
            if not page["HasMore"]:
                assert page["NextCursor"] == -1, page
                return seen
            cursor = page["NextCursor"]
        raise AssertionError("the scan never ended")


# --- the audit -------------------------------------------------------------------------------


@dataclass
class ConversationAudit:
    member_count: int
    owner: str
    status: int
    members: dict[str, dict[str, Any]]
    problems: list[str]

    @property
    def users(self) -> set[int]:
        return {int(key[1:]) for key in self.members}


def member_items(client: Any, table_name: str, short_id: int) -> list[dict[str, Any]]:
    """Every member item of the conversation, read consistently from the table."""
    items: list[dict[str, Any]] = []
    paginator = client.get_paginator("query")
    for page in paginator.paginate(
        TableName=table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :m)",
        ExpressionAttributeValues={
            ":pk": {"S": conversation_pk(APP_ID, short_id)},
            ":m": {"S": "M#"},
        },
        ConsistentRead=True,
    ):
        items.extend(page["Items"])
    return items


def index_keys(client: Any, table_name: str, index: str, consistent: bool = False) -> list[Any]:
    """Every entry of `index` (a Scan of the index, which is this test table's alone)."""
    options: dict[str, Any] = {"ConsistentRead": True} if consistent else {}
    return [
        item
        for page in client.get_paginator("scan").paginate(
            TableName=table_name, IndexName=index, **options
        )
        for item in page["Items"]
    ]


def audit_conversation(
    caller: Caller,
    short_id: int,
    *,
    scan: bool = True,
    query_each_member: bool = True,
) -> ConversationAudit:
    """Read the conversation, its member items and its indexes; list what disagrees."""
    client, table = caller.client, caller.table_name
    item = client.get_item(
        TableName=table, Key=conversation_key(APP_ID, short_id), ConsistentRead=True
    )["Item"]
    count = int(item["MemberCount"]["N"])
    owner = item["Owner"]["S"]
    live_group = item["ConversationType"]["N"] == "100"
    problems: list[str] = []
    members = {entry["User"]["S"]: entry for entry in member_items(client, table, short_id)}
    if count != len(members):
        problems.append(f"MemberCount {count} but {len(members)} member items")
    owners = [user for user, entry in members.items() if entry["Role"]["N"] == "1"]
    if owners != [owner]:
        problems.append(f"Role 1 items {owners}, conversation Owner {owner}")
    if caller.count(short_id) != count:
        problems.append("GetConversationUserCount disagrees with MemberCount")
    numbers = Counter(entry["JoinNumber"]["N"] for entry in members.values())
    problems.extend(f"JoinNumber {n} held {k} times" for n, k in numbers.items() if k > 1)
    if int(item["NextJoinNumber"]["N"]) <= max((int(n) for n in numbers), default=0):
        problems.append("NextJoinNumber is not past every member's JoinNumber")
    problems.extend(_index_problems(caller, short_id, members, owner, live_group))
    if query_each_member:
        problems.extend(_user_index_problems(client, table, short_id, members))
    if scan and not live_group:
        problems.extend(_scan_problems(caller, short_id, members, count))
    return ConversationAudit(count, owner, int(item["Status"]["N"]), members, problems)


def _index_problems(
    caller: Caller,
    short_id: int,
    members: dict[str, dict[str, Any]],
    owner: str,
    live_group: bool,
) -> list[str]:
    """StaffIndex: exactly the staff; OwnedLiveIndex: a live group's owner; UserIndex: members."""
    client, table = caller.client, caller.table_name
    problems = []
    pk = conversation_pk(APP_ID, short_id)
    staff = sorted(
        entry["User"]["S"]
        for entry in index_keys(client, table, "StaffIndex", consistent=True)
        if entry["PK"]["S"] == pk
    )
    expected_staff = sorted(u for u, entry in members.items() if entry["Role"]["N"] != "0")
    if staff != expected_staff:
        problems.append(f"StaffIndex holds {staff}, the staff are {expected_staff}")
    owned_live = [
        entry["SK"]["S"][2:]
        for entry in index_keys(client, table, "OwnedLiveIndex")
        if entry["PK"]["S"] == pk
    ]
    if owned_live != ([owner] if live_group else []):
        problems.append(f"OwnedLiveIndex holds {owned_live} for owner {owner}")
    in_index = Counter(
        entry["SK"]["S"][2:]
        for entry in index_keys(client, table, "UserIndex")
        if entry["PK"]["S"] == pk
    )
    if in_index != Counter(members.keys()):
        problems.append("UserIndex entries differ from the member items")
    return problems


def _scan_problems(
    caller: Caller, short_id: int, members: dict[str, dict[str, Any]], count: int
) -> list[str]:
    """A full ScanConversationParticipantList lists each member once, MemberCount in all."""
    problems = []
    scanned = Counter(participant["ParticipantUserId"] for participant in caller.scan_all(short_id))
    repeated = [user for user, times in scanned.items() if times > 1]
    if repeated:
        problems.append(f"the scan listed {repeated} more than once")
    if set(scanned) != {int(user[1:]) for user in members}:
        problems.append("the scan's members differ from the member items")
    if sum(scanned.values()) != count:
        problems.append(f"the scan listed {sum(scanned.values())} members, MemberCount {count}")
    return problems


def _user_index_problems(
    client: Any, table: str, short_id: int, members: dict[str, dict[str, Any]]
) -> list[str]:
    problems = []
    for user_key in members:
        user = user_partition(APP_ID, 0, integer_user(int(user_key[1:])))
        found = client.query(
            TableName=table,
            IndexName="UserIndex",
            KeyConditionExpression="UserPK = :u AND UserSK = :c",
            ExpressionAttributeValues={":u": {"S": user}, ":c": {"N": str(short_id)}},
        )["Items"]
        if len(found) != 1:
            problems.append(f"member {user_key} is in the UserIndex {len(found)} times")
    return problems


def orphans(client: Any, table_name: str) -> list[str]:
    """Member items and records whose conversation item is missing."""
    items = [
        item
        for page in client.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True)
        for item in page["Items"]
    ]
    conversations = {item["PK"]["S"] for item in items if item["SK"]["S"] == "C"}
    found = []
    for item in items:
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if sk.startswith("M#") and pk not in conversations:
            found.append(f"{pk} {sk}: member of a missing conversation")
        if sk in {"I", "S", "ID"}:
            target = conversation_pk(APP_ID, int(item["ConversationShortId"]["N"]))
            if target not in conversations:
                found.append(f"{pk}: record of a missing conversation")
    return found


def run_threads(workers: list[Callable[[], None]]) -> float:
    """Run each worker in its own thread; re-raise the first failure; answer the seconds."""
    failures: list[BaseException] = []

    def guarded(worker: Callable[[], None]) -> None:
        try:
            worker()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=guarded, args=(worker,)) for worker in workers]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return time.monotonic() - started


def max_in_flight(answers: Iterable[Answer]) -> int:
    edges = sorted(
        [(answer.started, 1) for answer in answers] + [(answer.ended, -1) for answer in answers]
    )
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most
