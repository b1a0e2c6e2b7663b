"""Lambda entry point: API Gateway event in, vendor BaseResponse out. No business logic here."""

from __future__ import annotations

import secrets
import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.api import check_route, error_payload, success_payload, to_command
from handler.domain import Entropy, create_conversation
from handler.errors import ApiError, describe
from handler.gateway import http_response, parse_event
from handler.request_parsing import parse_create_request
from handler.settings import load_settings
from handler.store import ClientSettings, DynamoDBConversationStore, create_client

settings = load_settings()
logger = Logger(service="create-conversation")
store = DynamoDBConversationStore(
    client=create_client(
        ClientSettings(
            region=settings.aws_region,
            endpoint_url=settings.dynamodb_endpoint_url,
            connect_timeout=settings.dynamodb_connect_timeout,
            read_timeout=settings.dynamodb_read_timeout,
            max_attempts=settings.dynamodb_max_attempts,
        )
    ),
    table_name=settings.table_name,
    write_budget_seconds=settings.write_budget_seconds,
)
# Read per call, never cached: a SnapStart restore must not replay another sandbox's randomness.
entropy = Entropy(now_ms=lambda: time.time_ns() // 1_000_000, random_bits=secrets.randbits)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, fallback_request_id=getattr(context, "aws_request_id", ""))
    logger.set_correlation_id(request.request_id)
    try:
        check_route(request)
        command = to_command(parse_create_request(request.body()))
        outcome = create_conversation(command, store.for_request(), entropy)
    except Exception as error:  # every failure becomes the vendor's envelope
        return _error_response(request.request_id, error)
    logger.info(
        "conversation created" if not outcome.existed else "conversation exists",
        extra={"conversation_short_id": outcome.conversation.short_id},
    )
    return http_response(200, success_payload(request.request_id, settings.api_region, outcome))


def _error_response(request_id: str, error: Exception) -> dict[str, Any]:
    body = describe(error)
    if isinstance(error, ApiError):
        logger.info("request refused", extra={"code": body.code})
    else:
        logger.exception("request failed", extra={"code": body.code})
    return http_response(body.http_status, error_payload(request_id, settings.api_region, body))
