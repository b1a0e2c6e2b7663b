"""Lambda entry point: API Gateway event in, vendor BaseResponse out. No business logic here."""

from __future__ import annotations

import gc

# A cold start allocates only what lives as long as the sandbox (modules, models, the client), so
# cyclic collection during it rescans those objects for nothing: ~35 ms of CPU out of ~220 here.
# Collection is paused until the module is ready, then those objects are frozen out of every later
# collection (the gc module's documented disable/freeze/enable pattern). A failed import ends the
# sandbox, so nothing runs with collection left off.
gc.disable()

import secrets
import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handler.access import gatekeeper_for
from handler.access_keys import key_lookup
from handler.actions import Dependencies
from handler.api import (
    SERVICE,
    Route,
    check_route,
    error_headers,
    error_payload,
    requested_route,
    success_payload,
)
from handler.auth import SigningScope
from handler.domain.ids import Entropy
from handler.domain.model import MemberLimits
from handler.errors import describe, is_expected
from handler.gateway import http_response, parse_event
from handler.rate_limit import RateLimiter, RateLimitPolicy
from handler.request_parsing import parse_request
from handler.settings import load_settings
from handler.store import (
    DynamoDBConversationStore,
    DynamoDBRateCounter,
    client_settings_for,
    create_client,
    report_retries,
)
from handler.telemetry import Telemetry

settings = load_settings()
telemetry = Telemetry(settings)
client_settings = client_settings_for(settings)
dynamodb = create_client(client_settings)
report_retries(dynamodb, telemetry.dynamodb_retry)
store = DynamoDBConversationStore(
    client=dynamodb,
    table_name=settings.table_name,
    write_budget_seconds=settings.write_budget_seconds,
)
gatekeeper = gatekeeper_for(
    settings.auth_mode,
    keys=key_lookup(settings, client_settings),
    scope=SigningScope(region=settings.api_region, service=SERVICE),
    limiter=RateLimiter(
        RateLimitPolicy(
            write_per_second=settings.rate_limit_write_per_second,
            read_per_second=settings.rate_limit_read_per_second,
        ),
        DynamoDBRateCounter(dynamodb, table_name=settings.table_name),
        clock=time.time,
    ),
    clock=time.time,
)
member_limits = MemberLimits(
    group=settings.group_member_limit, live_group=settings.live_group_member_limit
)
# Read per call, never cached: a SnapStart restore must not replay another sandbox's randomness.
entropy = Entropy(now_ms=lambda: time.time_ns() // 1_000_000, random_bits=secrets.randbits)


@telemetry.instrument
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_event(event, fallback_request_id=getattr(context, "aws_request_id", ""))
    telemetry.start_request(request.request_id)
    route = requested_route(request)
    try:
        action = check_route(request)
        body = request.body()
        caller = gatekeeper.admit(request, body, action.ACTION, action.RATE_LIMIT)
        action_request = parse_request(action.Request, body)
        caller.authorize(action_request.AppId)  # type: ignore[attr-defined]
        dependencies = Dependencies(store.for_request(), entropy, member_limits)
        result = action.run(action_request, dependencies)
    except Exception as error:  # every failure becomes the vendor's envelope
        return _error_response(route, request.request_id, error)
    telemetry.succeeded(action.ACTION, caller=caller.name, audit=_audit(result))
    payload = success_payload(route, request.request_id, settings.api_region, result)
    return http_response(200, payload)


def _audit(result: Any) -> dict[str, Any]:
    """The ids a success is audited by: the conversation, and for a create, whether it existed."""
    fields = {"ConversationShortId": "conversation_short_id", "Exist": "existed"}
    return {
        name: getattr(result, field) for field, name in fields.items() if hasattr(result, field)
    }


def _error_response(route: Route, request_id: str, error: Exception) -> dict[str, Any]:
    body = describe(error)
    telemetry.failed(body, expected=is_expected(error))
    payload = error_payload(route, request_id, settings.api_region, body)
    return http_response(body.http_status, payload, error_headers(body))


# The end of the cold start (see gc.disable() above).
gc.freeze()
gc.enable()
