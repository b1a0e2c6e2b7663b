"""Lambda entry point: API Gateway event in, vendor BaseResponse out. No business logic here."""

from __future__ import annotations

import secrets
import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.api import (
    check_route,
    error_headers,
    error_payload,
    success_payload,
    to_command,
)
from handler.domain import Entropy, create_conversation
from handler.errors import ApiError, describe
from handler.gateway import http_response, parse_event
from handler.request_parsing import parse_create_request
from handler.settings import load_settings
from handler.store import (
    ClientSettings,
    DynamoDBConversationStore,
    create_client,
    report_retries,
)
from handler.telemetry import Telemetry

settings = load_settings()
telemetry = Telemetry(settings)
client = create_client(
    ClientSettings(
        region=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url,
        connect_timeout=settings.dynamodb_connect_timeout,
        read_timeout=settings.dynamodb_read_timeout,
        max_attempts=settings.dynamodb_max_attempts,
    )
)
report_retries(client, telemetry.dynamodb_retry)
store = DynamoDBConversationStore(
    client=client,
    table_name=settings.table_name,
    write_budget_seconds=settings.write_budget_seconds,
)
# Read per call, never cached: a SnapStart restore must not replay another sandbox's randomness.
entropy = Entropy(now_ms=lambda: time.time_ns() // 1_000_000, random_bits=secrets.randbits)


@telemetry.instrument
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, fallback_request_id=getattr(context, "aws_request_id", ""))
    telemetry.start_request(request.request_id)
    try:
        check_route(request)
        command = to_command(parse_create_request(request.body()))
        outcome = create_conversation(command, store, entropy)
    except Exception as error:  # every failure becomes the vendor's envelope
        return _error_response(request.request_id, error)
    telemetry.succeeded(outcome.conversation.short_id, existed=outcome.existed)
    return http_response(200, success_payload(request.request_id, settings.api_region, outcome))


def _error_response(request_id: str, error: Exception) -> dict[str, Any]:
    body = describe(error)
    telemetry.failed(body, expected=isinstance(error, ApiError))
    payload = error_payload(request_id, settings.api_region, body)
    return http_response(body.http_status, payload, error_headers(body))
