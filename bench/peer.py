"""The peer: CreateConversation written the way most teams would, with Powertools' idempotency
utility (DynamoDB persistence layer) around a plain PutItem.

It shares our event parsing, validation and envelope, so the two differ only in how they write:
the peer locks a Powertools record (PutItem), writes the conversation (PutItem) and saves the
answer on the record (UpdateItem); a repeat finds the saved answer in the refused lock's ALL_OLD
image. Deduplication keys are ours: IdempotentId if given, else the member pair of a single chat;
a group without IdempotentId is a plain put. It replays the first answer, so it cannot say
`Exist: true`, and a crash between its writes leaves a lock that refuses retries until it expires.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from handler.api import check_route, success_payload, to_command
from handler.domain import (
    CreateCommand,
    CreateOutcome,
    Entropy,
    idempotency_key,
    plan_new_conversation,
    single_chat_key,
)
from handler.gateway import http_response, parse_event
from handler.request_parsing import parse_create_request
from handler.store import conversation_key, encode_conversation

API_REGION = "cn-north-1"


def idempotency_table_definition(table_name: str) -> dict[str, Any]:
    """The table Powertools' DynamoDBPersistenceLayer expects by default: string key `id`."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


class PowertoolsPeer:
    def __init__(
        self, client: Any, *, conversations_table: str, idempotency_table: str, logger: Logger
    ) -> None:
        self._client = client
        self._logger = logger
        self._table = conversations_table
        self._entropy = Entropy(
            now_ms=lambda: time.time_ns() // 1_000_000, random_bits=secrets.randbits
        )
        persistence = DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=client)
        self._config = IdempotencyConfig(event_key_jmespath="key")
        self._create_once = idempotent_function(
            data_keyword_argument="request", persistence_store=persistence, config=self._config
        )(self._create)

    def lambda_handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # As Powertools asks of idempotent_function: the lock then expires with the invocation.
        self._config.register_lambda_context(context)
        request = parse_event(event, fallback_request_id=context.aws_request_id)
        check_route(request)
        command = to_command(parse_create_request(request.body()))
        key = _dedup_key(command)
        data = {"key": key, "command": dataclasses.asdict(command)}
        result = self._create(request=data) if key is None else self._create_once(request=data)
        self._logger.info(
            "conversation created", extra={"conversation_short_id": result["ConversationShortId"]}
        )
        return http_response(
            200, {"ResponseMetadata": _metadata(request.request_id), "Result": result}
        )

    def _create(self, request: dict[str, Any]) -> dict[str, Any]:
        new = plan_new_conversation(CreateCommand(**request["command"]), self._entropy)
        item = {
            **encode_conversation(new.conversation),
            "PK": {"S": conversation_key(new.conversation.short_id)},
        }
        self._client.put_item(TableName=self._table, Item=item)
        outcome = CreateOutcome(new.conversation, existed=False)
        result: dict[str, Any] = success_payload("", API_REGION, outcome)["Result"]
        return result


def _metadata(request_id: str) -> dict[str, str]:
    return {
        "RequestId": request_id,
        "Action": "CreateConversation",
        "Version": "2020-12-01",
        "Service": "rtc",
        "Region": API_REGION,
    }


def _dedup_key(command: CreateCommand) -> dict[str, Any] | None:
    by_id, by_pair = idempotency_key(command), single_chat_key(command)
    chosen = by_id or by_pair
    return None if chosen is None else {"kind": type(chosen).__name__, **dataclasses.asdict(chosen)}
