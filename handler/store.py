"""The only module that talks to DynamoDB: the calls, their conditions, reading their refusals.

table.py has the key layout and the item codecs. Every write is one request: a create's
TransactWriteItems (the conversation, its members and its uniqueness records, each guarded by
`attribute_not_exists`), or a member change's TransactWriteItems (the conversation item and the
member items, guarded by what was read), or one conditional UpdateItem when only the
conversation item changes. Uniqueness records hold a reference (the ConversationShortId), not a
copy: a copy would go stale on every ModifyConversation and member change, or make each of those
writes update it too.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import (
    ClientError,
    ConnectionError,
    ConnectTimeoutError,
    HTTPClientError,
    ReadTimeoutError,
)

from handler.aws_clients import new_client
from handler.domain.errors import StoreTimeoutError, StoreUnavailableError
from handler.domain.model import (
    STATUS_DISSOLVED,
    STATUS_NORMAL,
    Conversation,
    ConversationWrite,
    Member,
    MemberChange,
    MemberPatch,
)
from handler.domain.ports import (
    IdempotencyKey,
    IndexEntry,
    Inserted,
    Matched,
    MemberListing,
    NewConversation,
    ShortIdTakenError,
    UserListing,
)
from handler.domain.users import UserRef
from handler.table import (
    JOIN_INDEX,
    OWNED_LIVE_INDEX,
    STAFF_INDEX,
    TTL_ATTRIBUTE,
    USER_INDEX,
    Item,
    Key,
    conversation_key,
    conversation_pk,
    decode_conversation,
    decode_member,
    encode_conversation,
    encode_ext,
    encode_member,
    idempotency_key,
    is_staff,
    member_key,
    owns_live_group,
    rate_counter_key,
    short_id_claim_key,
    short_id_of,
    single_chat_key,
    table_definition,
    user_partition,
)

if TYPE_CHECKING:
    from botocore.awsrequest import AWSRequest
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from handler.settings import Settings

__all__ = [
    "TTL_ATTRIBUTE",
    "ClientSettings",
    "ConflictRetry",
    "DynamoDBConversationStore",
    "DynamoDBRateCounter",
    "client_settings_for",
    "create_client",
    "rate_counter_key",
    "report_retries",
    "table_definition",
]

_NOT_EXISTS = "attribute_not_exists(PK)"
# Cancellation reasons that mean "another writer or the engine got in the way, try again".
_RETRIABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
_RETRY_HOOK_ID = "im-conversations-report-retries"
# Back-off jitter from the OS on each draw: the random module's generator is seeded once per
# process, so sandboxes restored from one SnapStart snapshot would all jitter in step.
_JITTER = random.SystemRandom()
_UNAVAILABLE_CODES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "InternalServerError",
    "ServiceUnavailable",
}
BATCH_GET_MAX_KEYS = 100
BATCH_WRITE_MAX_ITEMS = 25
# A dissolved conversation is kept this long, so that a DestroyConversation retry still finds it
# and succeeds; then DynamoDB's TTL deletes it (within days of expiry).
DISSOLVED_RETENTION_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class ClientSettings:
    region: str
    endpoint_url: str | None
    connect_timeout: float
    read_timeout: float
    max_attempts: int


@dataclass(frozen=True)
class ConflictRetry:
    """Our own retries, for refusals botocore does not retry (conflicts, unprocessed keys)."""

    max_attempts: int = 8
    base_delay: float = 0.01
    max_delay: float = 0.25


def client_settings_for(settings: Settings) -> ClientSettings:
    """The time bounds every AWS call of the function gets, from its validated settings."""
    return ClientSettings(
        region=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url,
        connect_timeout=settings.dynamodb_connect_timeout,
        read_timeout=settings.dynamodb_read_timeout,
        max_attempts=settings.dynamodb_max_attempts,
    )


def create_client(settings: ClientSettings) -> DynamoDBClient:
    client = new_client(
        "dynamodb", settings, endpoint_url=settings.endpoint_url, tcp_keepalive=True
    )
    return cast("DynamoDBClient", client)


def report_retries(client: DynamoDBClient, on_retry: Callable[[str], None]) -> None:
    """Call `on_retry(operation)` each time botocore sends a DynamoDB request again.

    botocore retries throttling, 5xx answers and network errors on its own, out of the store's
    sight; its `request-created` event fires once per attempt and the request's context knows
    which attempt it is. A second registration on the same client is ignored.
    """

    def request_created(request: AWSRequest, operation_name: str, **_: Any) -> None:
        if request.context.get("retries", {}).get("attempt", 1) > 1:
            on_retry(operation_name)

    client.meta.events.register(
        "request-created.dynamodb", request_created, unique_id=_RETRY_HOOK_ID
    )


class _Expression:
    """Builds one update or condition expression with every attribute name aliased.

    Aliasing all names keeps DynamoDB's reserved words (Name, Status, Role, Level...) out of
    the way.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValueTypeDef] = {}
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.adds: list[str] = []
        self.conditions: list[str] = []

    def name(self, attribute: str) -> str:
        alias = f"#{attribute}"
        self.names[alias] = attribute
        return alias

    def value(self, value: AttributeValueTypeDef) -> str:
        alias = f":v{len(self.values)}"
        self.values[alias] = value
        return alias

    def set(self, attribute: str, value: AttributeValueTypeDef) -> None:
        self.sets.append(f"{self.name(attribute)} = {self.value(value)}")

    def copy(self, attribute: str, source: str) -> None:
        self.sets.append(f"{self.name(attribute)} = {self.name(source)}")

    def remove(self, attribute: str) -> None:
        self.removes.append(self.name(attribute))

    def add(self, attribute: str, value: int) -> None:
        self.adds.append(f"{self.name(attribute)} {self.value({'N': str(value)})}")

    def require(self, attribute: str, value: AttributeValueTypeDef) -> None:
        self.conditions.append(f"{self.name(attribute)} = {self.value(value)}")

    def require_exists(self) -> None:
        self.conditions.append(f"attribute_exists({self.name('PK')})")

    def update_arguments(self) -> dict[str, Any]:
        clauses = []
        if self.sets:
            clauses.append("SET " + ", ".join(self.sets))
        if self.removes:
            clauses.append("REMOVE " + ", ".join(self.removes))
        if self.adds:
            clauses.append("ADD " + ", ".join(self.adds))
        arguments: dict[str, Any] = {
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": self.names,
        }
        arguments.update(self._condition_arguments())
        return arguments

    def condition_arguments(self) -> dict[str, Any]:
        return {"ExpressionAttributeNames": self.names, **self._condition_arguments()}

    def _condition_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.conditions:
            arguments["ConditionExpression"] = " AND ".join(self.conditions)
        if self.values:
            arguments["ExpressionAttributeValues"] = self.values
        return arguments


class DynamoDBConversationStore:
    def __init__(
        self,
        client: DynamoDBClient,
        *,
        table_name: str,
        write_budget_seconds: float,
        conflict_retry: ConflictRetry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table_name
        self._budget = write_budget_seconds
        self._retry = conflict_retry or ConflictRetry()
        self._sleep = sleep
        self._monotonic = monotonic
        self._clock = clock
        self._request_deadline: float | None = None

    def for_request(self) -> DynamoDBConversationStore:
        """This store with one time budget for all the retries of one request.

        A fresh budget per write (a redrawn id, a re-read after a conflict) would let one request
        outlast the Lambda timeout.
        """
        request_store = copy.copy(self)
        request_store._request_deadline = self._monotonic() + self._budget
        return request_store

    # --- reads ---------------------------------------------------------------------------------

    def conversation(self, app_id: int, short_id: int) -> Conversation | None:
        item = self._get(conversation_key(app_id, short_id))
        return decode_conversation(item) if item is not None else None

    def conversations(self, app_id: int, short_ids: Sequence[int]) -> dict[int, Conversation]:
        items = self._batch_get([conversation_key(app_id, short_id) for short_id in short_ids])
        found = (decode_conversation(item) for item in items)
        return {conversation.short_id: conversation for conversation in found}

    def conversation_and_members(
        self, app_id: int, short_id: int, users: Sequence[UserRef]
    ) -> tuple[Conversation | None, dict[UserRef, Member]]:
        if not users:
            return self.conversation(app_id, short_id), {}
        keys = [conversation_key(app_id, short_id)]
        keys += [member_key(app_id, short_id, user) for user in users]
        conversation = None
        members: dict[UserRef, Member] = {}
        for item in self._batch_get(keys):
            if item.get("Kind", {}).get("S") == "Conversation":
                conversation = decode_conversation(item)
            else:
                member = decode_member(item)
                members[member.user] = member
        return conversation, members

    def user_conversations(self, listing: UserListing) -> tuple[list[IndexEntry], bool]:
        """One index query, then one consistent read of what it named (the index may lag)."""
        expression = _Expression()
        index = OWNED_LIVE_INDEX if listing.owned_live_groups_only else USER_INDEX
        partition = "OwnedLivePK" if listing.owned_live_groups_only else "UserPK"
        user_pk = user_partition(listing.app_id, listing.inbox_type, listing.user)
        condition = f"{expression.name(partition)} = {expression.value({'S': user_pk})}"
        if listing.after is not None:
            operator = "<" if listing.newest_first else ">"
            bound = expression.value({"N": str(listing.after)})
            condition += f" AND {expression.name('UserSK')} {operator} {bound}"
        response = _call(
            self._client.query,
            TableName=self._table,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=expression.names,
            ExpressionAttributeValues=expression.values,
            ScanIndexForward=not listing.newest_first,
            Limit=listing.limit + 1,
        )
        entries = response["Items"][: listing.limit]
        has_more = len(response["Items"]) > listing.limit
        if not entries:
            return [], False
        keys: list[Key] = []
        for entry in entries:
            pk = entry["PK"]["S"]
            keys.append({"PK": {"S": pk}, "SK": {"S": "C"}})
            keys.append({"PK": {"S": pk}, "SK": entry["SK"]})
        conversations: dict[str, Conversation] = {}
        members: set[str] = set()
        for item in self._batch_get(keys):
            if item.get("Kind", {}).get("S") == "Conversation":
                conversations[item["PK"]["S"]] = decode_conversation(item)
            else:
                members.add(item["PK"]["S"])
        listed = [
            IndexEntry(
                short_id=short_id_of(entry["PK"]["S"]),
                conversation=conversations.get(entry["PK"]["S"]),
                is_member=entry["PK"]["S"] in members,
            )
            for entry in entries
        ]
        return listed, has_more

    def member_page(self, listing: MemberListing) -> tuple[list[Member], bool]:
        """One consistent query of a local index: it cannot lag the table."""
        conversation = listing.conversation
        expression = _Expression()
        sort = "StaffNumber" if listing.managers_only else "JoinNumber"
        pk = conversation_pk(conversation.app_id, conversation.short_id)
        condition = f"{expression.name('PK')} = {expression.value({'S': pk})}"
        if listing.after is not None:
            # Forward cursors name the next join number to show, reverse ones the last shown.
            operator = "<" if listing.reverse else ">="
            bound = expression.value({"N": str(listing.after)})
            condition += f" AND {expression.name(sort)} {operator} {bound}"
        response = _call(
            self._client.query,
            TableName=self._table,
            IndexName=STAFF_INDEX if listing.managers_only else JOIN_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=expression.names,
            ExpressionAttributeValues=expression.values,
            ScanIndexForward=not listing.reverse,
            ConsistentRead=True,
            Limit=listing.limit + 1,
        )
        items = response["Items"]
        return [decode_member(item) for item in items[: listing.limit]], len(items) > listing.limit

    # --- writes --------------------------------------------------------------------------------

    def insert(self, new: NewConversation) -> Inserted | Matched:
        deadline = self._deadline()
        conversation = new.conversation
        records: list[Key] = []
        if new.idempotency is not None:
            records.append(idempotency_key(new.idempotency))
        if new.single_chat is not None:
            records.append(single_chat_key(new.single_chat))
        reference: dict[str, AttributeValueTypeDef] = {
            "ConversationShortId": {"N": str(conversation.short_id)},
            "WriteToken": {"S": new.write_token},
        }
        # Conversations are keyed by AppId (tenancy), so the id's claim, keyed by the id alone,
        # keeps it unique across the table, as the contract's ids are.
        claim = {**short_id_claim_key(conversation.short_id), "Kind": {"S": "IdClaim"}}
        items: list[dict[str, Any]] = [
            {**encode_conversation(conversation), "WriteToken": {"S": new.write_token}},
            {**claim, **reference},
            *(encode_member(conversation, member) for member in new.members),
            *({**key, "Kind": {"S": "Record"}, **reference} for key in records),
        ]
        transaction: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": item,
                    "ConditionExpression": _NOT_EXISTS,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for item in items
        ]
        keys = [{"PK": item["PK"], "SK": item["SK"]} for item in items]
        for attempt in range(self._retry.max_attempts):
            try:
                # botocore fills ClientRequestToken and reuses it on its own retries, so a retry
                # after a lost answer is a no-op that succeeds instead of a second write.
                _call(self._client.transact_write_items, TransactItems=transaction)
            except ClientError as error:
                if _error_code(error) != "TransactionCanceledException":
                    raise
                outcome = self._read_insert_refusal(new, keys, len(records), error)
                if outcome is not None:
                    return outcome
                self._back_off(attempt, deadline)
                continue
            return Inserted()
        raise StoreUnavailableError("write conflicts did not clear")

    def _read_insert_refusal(
        self, new: NewConversation, keys: list[Key], record_count: int, error: ClientError
    ) -> Inserted | Matched | None:
        reasons = _reasons(error, len(keys))
        refused = {
            index: reason.get("Item")
            for index, reason in enumerate(reasons)
            if reason.get("Code") == "ConditionalCheckFailed"
        }
        if 0 in refused and self._is_own(new, keys[0], refused[0]):
            return Inserted()
        # Records are listed IdempotentId first: an IdempotentId match takes precedence.
        for index in range(len(keys) - record_count, len(keys)):
            if index in refused:
                image = refused[index] or self._get(keys[index])
                if image is None:
                    return None  # released in between: write again
                if image.get("WriteToken", {}).get("S") == new.write_token:
                    return Inserted()
                return Matched(short_id=int(image["ConversationShortId"]["N"]))
        if refused:
            raise ShortIdTakenError
        if any(reason.get("Code") in _RETRIABLE_REASONS for reason in reasons):
            return None
        codes = ", ".join(str(reason.get("Code")) for reason in reasons)
        raise RuntimeError(f"transaction cancelled for reasons: {codes}")

    def _is_own(self, new: NewConversation, key: Key, image: Item | None) -> bool:
        item = image or self._get(key)
        return item is not None and item.get("WriteToken", {}).get("S") == new.write_token

    def apply(self, write: ConversationWrite) -> bool:
        deadline = self._deadline()
        conversation_update = self._conversation_update(write)
        actions: list[dict[str, Any]] = [{"Update": conversation_update}]
        actions += [self._member_action(write.conversation, change) for change in write.members]
        conversation = write.conversation
        if write.release_idempotent_id and conversation.idempotent_id is not None:
            record = IdempotencyKey(
                conversation.app_id, conversation.inbox_type, conversation.idempotent_id
            )
            actions.append({"Delete": {"TableName": self._table, "Key": idempotency_key(record)}})
        for attempt in range(self._retry.max_attempts):
            try:
                if len(actions) == 1:
                    _call(self._client.update_item, **conversation_update)
                else:
                    _call(self._client.transact_write_items, TransactItems=actions)
            except ClientError as error:
                code = _error_code(error)
                if code == "ConditionalCheckFailedException":
                    return False
                if code == "TransactionConflictException":
                    # A lone UpdateItem met a transaction in flight on the same item.
                    self._back_off(attempt, deadline)
                    continue
                if code != "TransactionCanceledException":
                    raise
                reasons = _reasons(error, len(actions))
                if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                    return False
                if not any(reason.get("Code") in _RETRIABLE_REASONS for reason in reasons):
                    codes = ", ".join(str(reason.get("Code")) for reason in reasons)
                    raise RuntimeError(f"transaction cancelled for reasons: {codes}") from None
                self._back_off(attempt, deadline)
                continue
            return True
        raise StoreUnavailableError("write conflicts did not clear")

    def _conversation_update(self, write: ConversationWrite) -> dict[str, Any]:
        conversation = write.conversation
        expression = _Expression()
        expression.set("ModifyTime", {"N": str(write.modify_time)})
        patch = write.patch
        for attribute, text in (
            ("Name", patch.name),
            ("AvatarUrl", patch.avatar_url),
            ("Description", patch.description),
            ("Notice", patch.notice),
        ):
            if text is not None:
                expression.set(attribute, {"S": text})
        if patch.ext is not None:
            expression.set("Ext", encode_ext(patch.ext))
        if patch.owner is not None:
            expression.set("Owner", {"S": patch.owner.key})
        if patch.owner_join_number is not None:
            expression.set("OwnerJoinNumber", {"N": str(patch.owner_join_number)})
        if write.next_join_number is not None:
            expression.set("NextJoinNumber", {"N": str(write.next_join_number)})
        if write.member_count_delta:
            expression.add("MemberCount", write.member_count_delta)
        if write.dissolve_by is not None:
            expression.set("Status", {"N": str(STATUS_DISSOLVED)})
            expression.set("DissolvedBy", {"S": write.dissolve_by.key})
            expires = int(self._clock()) + DISSOLVED_RETENTION_SECONDS
            expression.set(TTL_ATTRIBUTE, {"N": str(expires)})
        expression.require_exists()
        expression.require("Status", {"N": str(STATUS_NORMAL)})
        expression.require("Owner", {"S": write.expect_owner.key})
        if write.expect_next_join_number is not None:
            expression.require("NextJoinNumber", {"N": str(write.expect_next_join_number)})
        return {
            "TableName": self._table,
            "Key": conversation_key(conversation.app_id, conversation.short_id),
            **expression.update_arguments(),
        }

    def _member_action(self, conversation: Conversation, change: MemberChange) -> dict[str, Any]:
        key = member_key(conversation.app_id, conversation.short_id, change.user)
        if change.put is not None:
            return {
                "Put": {
                    "TableName": self._table,
                    "Item": encode_member(conversation, change.put),
                    "ConditionExpression": _NOT_EXISTS,
                }
            }
        expression = _Expression()
        expression.require_exists()
        expression.require("Role", {"N": str(change.read_role)})
        if change.read_join_number is not None:
            expression.require("JoinNumber", {"N": str(change.read_join_number)})
        if change.delete:
            return {
                "Delete": {"TableName": self._table, "Key": key, **expression.condition_arguments()}
            }
        if change.patch is None:
            raise ValueError("a member change puts, patches or deletes")
        self._patch_member(expression, conversation, change.user, change.read_role, change.patch)
        if not expression.sets and not expression.removes:
            # Nothing to change on this member: keep its guard, touch nothing.
            check = {"TableName": self._table, "Key": key, **expression.condition_arguments()}
            return {"ConditionCheck": check}
        return {"Update": {"TableName": self._table, "Key": key, **expression.update_arguments()}}

    @staticmethod
    def _patch_member(
        expression: _Expression,
        conversation: Conversation,
        user: UserRef,
        read_role: int | None,
        patch: MemberPatch,
    ) -> None:
        if patch.role is not None and patch.role != read_role:
            expression.set("Role", {"N": str(patch.role)})
            if is_staff(patch.role):
                expression.copy("StaffNumber", "JoinNumber")
            else:
                expression.remove("StaffNumber")
            if owns_live_group(conversation, patch.role):
                pk = user_partition(conversation.app_id, conversation.inbox_type, user)
                expression.set("OwnedLivePK", {"S": pk})
            else:
                expression.remove("OwnedLivePK")
        if patch.nick_name is not None:
            expression.set("NickName", {"S": patch.nick_name})
        for attribute, number in (("Level", patch.level), ("BlockTime", patch.block_time)):
            if number is not None:
                expression.set(attribute, {"N": str(number)})
        if patch.ext is not None:
            expression.set("Ext", encode_ext(patch.ext))

    def purge_members(self, app_id: int, short_id: int) -> int:
        """Delete every member item of a dissolved conversation; answer how many were deleted.

        Only the reaper calls this, after the dissolve committed: no answer reads these items
        any more, since every read checks the conversation first.
        """
        pk = conversation_pk(app_id, short_id)
        deleted = 0
        start: dict[str, Any] | None = None
        while True:
            page = _call(
                self._client.query,
                TableName=self._table,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :members)",
                ExpressionAttributeValues={":pk": {"S": pk}, ":members": {"S": "M#"}},
                ProjectionExpression="PK, SK",
                **({"ExclusiveStartKey": start} if start else {}),
            )
            keys = [{"PK": item["PK"], "SK": item["SK"]} for item in page["Items"]]
            for chunk in _chunks(keys, BATCH_WRITE_MAX_ITEMS):
                self._batch_delete(chunk)
            deleted += len(keys)
            start = page.get("LastEvaluatedKey")
            if start is None:
                return deleted

    def _batch_delete(self, keys: Sequence[Key]) -> None:
        pending = [{"DeleteRequest": {"Key": key}} for key in keys]
        attempt = 0
        while pending:
            response = _call(self._client.batch_write_item, RequestItems={self._table: pending})
            pending = response.get("UnprocessedItems", {}).get(self._table, [])
            if pending:
                self._sleep(min(self._retry.max_delay, self._retry.base_delay * 2**attempt))
                attempt += 1

    def pause_before_retry(self, attempt: int) -> None:
        self._back_off(attempt, self._deadline())

    # --- plumbing ------------------------------------------------------------------------------

    def _deadline(self) -> float:
        deadline = self._request_deadline
        if deadline is None:
            deadline = self._request_deadline = self._monotonic() + self._budget
        if self._monotonic() >= deadline:
            raise StoreUnavailableError("the request's storage budget is spent")
        return deadline

    def _get(self, key: Key) -> Item | None:
        response = _call(self._client.get_item, TableName=self._table, Key=key, ConsistentRead=True)
        return response.get("Item")  # type: ignore[no-any-return]

    def _batch_get(self, keys: Sequence[Key]) -> list[Item]:
        """Every item of `keys` that exists, read consistently; unprocessed keys read again."""
        unique = list({(key["PK"]["S"], key["SK"]["S"]): key for key in keys}.values())
        found: list[Item] = []
        for chunk in _chunks(unique, BATCH_GET_MAX_KEYS):
            pending: Sequence[Key] = chunk
            attempt = 0
            while pending:
                response = _call(
                    self._client.batch_get_item,
                    RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}},
                )
                found.extend(response.get("Responses", {}).get(self._table, []))
                pending = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
                if pending:
                    self._back_off(attempt, self._deadline())
                    attempt += 1
        return found

    def _back_off(self, attempt: int, deadline: float) -> None:
        cap = min(self._retry.max_delay, self._retry.base_delay * 2**attempt)
        delay = _JITTER.uniform(0, cap)
        if self._monotonic() + delay >= deadline:
            raise StoreUnavailableError("storage conflicts did not clear before the deadline")
        self._sleep(delay)


class DynamoDBRateCounter:
    """The rate limiter's counters: one item per (window, action, caller), one UpdateItem each.

    The condition both counts and refuses in the same atomic step, so concurrent instances can
    never count past the limit; a refused request is not counted.
    """

    def __init__(self, client: DynamoDBClient, *, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def try_take(self, caller: str, action: str, window: int, limit: int, expires_at: int) -> bool:
        try:
            _call(
                self._client.update_item,
                TableName=self._table,
                Key=rate_counter_key(caller, action, window),
                UpdateExpression=f"SET {TTL_ATTRIBUTE} = :expires ADD RequestCount :one",
                ConditionExpression="attribute_not_exists(RequestCount) OR RequestCount < :limit",
                ExpressionAttributeValues={
                    ":expires": {"N": str(expires_at)},
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                },
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _chunks(keys: Sequence[Key], size: int) -> Iterator[Sequence[Key]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _reasons(error: ClientError, expected: int) -> list[dict[str, Any]]:
    """One reason per item of the transaction, in its order.

    DynamoDB Local stops its list at the item that met a conflicting transaction
    (`[None, TransactionConflict]` for three items); the items after it were not evaluated,
    which is what a `None` reason says.
    """
    reasons: list[dict[str, Any]] = error.response.get(  # type: ignore[assignment]
        "CancellationReasons", []
    )
    if not reasons or len(reasons) > expected:
        raise StoreUnavailableError("transaction cancelled without per-item reasons")
    return reasons + [{"Code": "None"}] * (expected - len(reasons))


def _call(operation: Callable[..., Any], **request: Any) -> Any:
    """Run one DynamoDB call; translate what botocore gave up on into the domain's errors."""
    try:
        return operation(**request)
    except (ReadTimeoutError, ConnectTimeoutError) as error:
        raise StoreTimeoutError(type(error).__name__) from error
    except (ConnectionError, HTTPClientError) as error:
        # HTTPClientError: the connection broke mid-exchange (ConnectionClosedError,
        # ResponseStreamingError), which botocore retries but does not count as ConnectionError.
        raise StoreUnavailableError(type(error).__name__) from error
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if _error_code(error) in _UNAVAILABLE_CODES or status >= 500:
            raise StoreUnavailableError(_error_code(error)) from error
        raise


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
