"""The only module that talks to DynamoDB: key layout, the atomic write, reading its refusals.

Table layout (one table, string partition key `PK`, no sort key):

    CONV#<ConversationShortId>                         the conversation
    SINGLE#<AppId>#<InboxType>#<lower id>#<higher id>  single-chat record (member order folded)
    IDEM#<AppId>#<InboxType>#<IdempotentId>            IdempotentId record
    RATE#<caller>#<epoch second>                       request counter of the rate limiter
                                                       (`RequestCount`; TTL on `ExpiresAt`)

Both records carry a full copy of the conversation. Conversations are never modified by this
service, so the copy is the conversation as stored, and a conflict answers `Exist: true` from the
refused write's ALL_OLD image alone: no read on any path, unless the engine omits that image.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Mapping
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
from handler.domain import (
    Conversation,
    CreateOutcome,
    NewConversation,
    ShortIdTakenError,
    StoreTimeoutError,
    StoreUnavailableError,
)

if TYPE_CHECKING:
    from botocore.awsrequest import AWSRequest
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        TransactWriteItemTypeDef,
    )

Item = Mapping[str, "AttributeValueTypeDef"]

KIND_CONVERSATION = "Conversation"
KIND_SINGLE_CHAT = "SingleChat"
KIND_IDEMPOTENT_ID = "IdempotentId"
# The table's TTL attribute (the template enables TTL on it); only rate counters carry it.
TTL_ATTRIBUTE = "ExpiresAt"
_NOT_EXISTS = "attribute_not_exists(PK)"
# Cancellation reasons that mean "another writer or the engine got in the way, try again".
_RETRIABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
_RETRY_HOOK_ID = "im-create-conversation-report-retries"
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


@dataclass(frozen=True)
class ClientSettings:
    region: str
    endpoint_url: str | None
    connect_timeout: float
    read_timeout: float
    max_attempts: int


@dataclass(frozen=True)
class ConflictRetry:
    """Our own retries, for refusals botocore does not retry (a transaction conflict)."""

    max_attempts: int = 8
    base_delay: float = 0.01
    max_delay: float = 0.25


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


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for the layout above; template.yaml declares the same table."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def conversation_key(short_id: int) -> str:
    return f"CONV#{short_id}"


def single_chat_record_key(new: NewConversation) -> str | None:
    key = new.single_chat_key
    if key is None:
        return None
    return f"SINGLE#{key.app_id}#{key.inbox_type}#{key.lower_user_id}#{key.higher_user_id}"


def idempotency_record_key(new: NewConversation) -> str | None:
    key = new.idempotency_key
    if key is None:
        return None
    return f"IDEM#{key.app_id}#{key.inbox_type}#{key.idempotent_id}"


def encode_conversation(conversation: Conversation) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        "ConversationShortId": {"N": str(conversation.short_id)},
        "AppId": {"N": str(conversation.app_id)},
        "InboxType": {"N": str(conversation.inbox_type)},
        "ConversationType": {"N": str(conversation.conversation_type)},
        "OwnerUserId": {"N": str(conversation.owner_user_id)},
        "Name": {"S": conversation.name},
        "AvatarUrl": {"S": conversation.avatar_url},
        "Description": {"S": conversation.description},
        "Notice": {"S": conversation.notice},
        "Ext": {"M": {key: {"S": value} for key, value in conversation.ext.items()}},
        "Status": {"N": str(conversation.status)},
        "CreateTime": {"N": str(conversation.create_time)},
        "ModifyTime": {"N": str(conversation.modify_time)},
    }
    if conversation.other_user_id is not None:
        item["OtherUserId"] = {"N": str(conversation.other_user_id)}
    return item


def decode_conversation(item: Item) -> Conversation:
    def number(name: str) -> int:
        return int(item[name]["N"])

    def text(name: str) -> str:
        return item[name]["S"]

    return Conversation(
        short_id=number("ConversationShortId"),
        app_id=number("AppId"),
        inbox_type=number("InboxType"),
        conversation_type=number("ConversationType"),
        owner_user_id=number("OwnerUserId"),
        other_user_id=number("OtherUserId") if "OtherUserId" in item else None,
        name=text("Name"),
        avatar_url=text("AvatarUrl"),
        description=text("Description"),
        notice=text("Notice"),
        ext={key: value["S"] for key, value in item["Ext"]["M"].items()},
        status=number("Status"),
        create_time=number("CreateTime"),
        modify_time=number("ModifyTime"),
    )


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
    ) -> None:
        self._client = client
        self._table = table_name
        self._budget = write_budget_seconds
        self._retry = conflict_retry or ConflictRetry()
        self._sleep = sleep
        self._monotonic = monotonic
        self._request_deadline: float | None = None

    def for_request(self) -> DynamoDBConversationStore:
        """This store with one write budget for all inserts of one request.

        The domain redraws a taken ConversationShortId and inserts again; a fresh budget per
        insert would let one request outlast the Lambda timeout.
        """
        request_store = copy.copy(self)
        request_store._request_deadline = self._monotonic() + self._budget
        return request_store

    def insert(self, new: NewConversation) -> CreateOutcome:
        records = [
            (KIND_IDEMPOTENT_ID, idempotency_record_key(new)),
            (KIND_SINGLE_CHAT, single_chat_record_key(new)),
        ]
        guarded = [(kind, key) for kind, key in records if key is not None]
        deadline = self._request_deadline
        if deadline is None:
            deadline = self._monotonic() + self._budget
        if self._monotonic() >= deadline:
            raise StoreUnavailableError("the write budget was spent before this insert")
        for attempt in range(self._retry.max_attempts):
            outcome = self._transact(new, guarded) if guarded else self._put_conversation(new)
            if outcome is not None:
                return outcome
            self._back_off(attempt, deadline)
        raise StoreUnavailableError("write conflicts did not clear")

    def _put_conversation(self, new: NewConversation) -> CreateOutcome | None:
        """One conditional PutItem: a conversation that no uniqueness record guards."""
        try:
            _call(
                self._client.put_item,
                TableName=self._table,
                Item=self._conversation_item(new, encode_conversation(new.conversation)),
                ConditionExpression=_NOT_EXISTS,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            key = conversation_key(new.conversation.short_id)
            image: Item | None = error.response.get("Item")  # type: ignore[assignment]
            if _is_own_write(new, self._image({key: image}, key)):
                return CreateOutcome(new.conversation, existed=False)
            raise ShortIdTakenError from None
        return CreateOutcome(new.conversation, existed=False)

    def _transact(
        self, new: NewConversation, guarded: list[tuple[str, str]]
    ) -> CreateOutcome | None:
        shared = encode_conversation(new.conversation)
        items: list[TransactWriteItemTypeDef] = [
            self._guarded_put(self._conversation_item(new, shared)),
            *(
                self._guarded_put({**shared, "PK": {"S": key}, "Kind": {"S": kind}})
                for kind, key in guarded
            ),
        ]
        try:
            # botocore fills ClientRequestToken and reuses it on its own retries, so a retry
            # after a lost answer is a no-op that succeeds instead of a second write.
            _call(self._client.transact_write_items, TransactItems=items)
        except ClientError as error:
            if _error_code(error) != "TransactionCanceledException":
                raise
            return self._read_cancellation(new, guarded, error)
        return CreateOutcome(new.conversation, existed=False)

    def _read_cancellation(
        self, new: NewConversation, guarded: list[tuple[str, str]], error: ClientError
    ) -> CreateOutcome | None:
        reasons: list[dict[str, Any]] = error.response.get(  # type: ignore[assignment]
            "CancellationReasons", []
        )
        keys = [conversation_key(new.conversation.short_id), *(key for _, key in guarded)]
        if len(reasons) != len(keys):
            raise StoreUnavailableError("transaction cancelled without per-item reasons")
        refused = {
            key: reason.get("Item")
            for key, reason in zip(keys, reasons, strict=True)
            if reason.get("Code") == "ConditionalCheckFailed"
        }
        conversation_refused = keys[0] in refused
        if conversation_refused and _is_own_write(new, self._image(refused, keys[0])):
            return CreateOutcome(new.conversation, existed=False)
        # Records are listed IdempotentId first: an IdempotentId match takes precedence.
        for key in keys[1:]:
            if key in refused:
                return CreateOutcome(decode_conversation(self._image(refused, key)), existed=True)
        if conversation_refused:
            raise ShortIdTakenError
        if any(reason.get("Code") in _RETRIABLE_REASONS for reason in reasons):
            return None
        codes = ", ".join(str(reason.get("Code")) for reason in reasons)
        raise RuntimeError(f"transaction cancelled for reasons: {codes}")

    def _image(self, refused: Mapping[str, Item | None], key: str) -> Item:
        """The refused item's ALL_OLD image; read only if the engine left it out."""
        return refused[key] or self._read(key)

    def _conversation_item(
        self, new: NewConversation, encoded: dict[str, AttributeValueTypeDef]
    ) -> dict[str, AttributeValueTypeDef]:
        """The conversation item: its `encoded` attributes, its key and the request's token."""
        return {
            **encoded,
            "PK": {"S": conversation_key(new.conversation.short_id)},
            "Kind": {"S": KIND_CONVERSATION},
            "WriteToken": {"S": new.write_token},
        }

    def _guarded_put(self, item: dict[str, AttributeValueTypeDef]) -> TransactWriteItemTypeDef:
        return {
            "Put": {
                "TableName": self._table,
                "Item": item,
                "ConditionExpression": _NOT_EXISTS,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _read(self, key: str) -> Item:
        """Fallback for an engine that refuses a write without returning the ALL_OLD image."""
        response = _call(
            self._client.get_item,
            TableName=self._table,
            Key={"PK": {"S": key}},
            ConsistentRead=True,
        )
        return response["Item"]  # type: ignore[no-any-return]

    def _back_off(self, attempt: int, deadline: float) -> None:
        cap = min(self._retry.max_delay, self._retry.base_delay * 2**attempt)
        delay = _JITTER.uniform(0, cap)
        if self._monotonic() + delay >= deadline:
            raise StoreUnavailableError("write conflicts did not clear before the deadline")
        self._sleep(delay)


class DynamoDBRateCounter:
    """The rate limiter's counters: one item per (caller, window), one UpdateItem per request.

    The condition both counts and refuses in the same atomic step, so concurrent instances can
    never count past the limit; a refused request is not counted.
    """

    def __init__(self, client: DynamoDBClient, *, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def try_take(self, caller: str, window: int, limit: int, expires_at: int) -> bool:
        try:
            _call(
                self._client.update_item,
                TableName=self._table,
                Key={"PK": {"S": rate_counter_key(caller, window)}},
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


def rate_counter_key(caller: str, window: int) -> str:
    return f"RATE#{caller}#{window}"


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


def _is_own_write(new: NewConversation, item: Item) -> bool:
    return item.get("WriteToken", {}).get("S") == new.write_token


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
