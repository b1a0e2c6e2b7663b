"""The vendor's API surface: which requests are ours, the action router, the envelope."""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel

import handler.actions
from handler.actions import Action
from handler.errors import ApiError, ErrorBody, ErrorCode, missing
from handler.gateway import HttpRequest

VERSION = "2020-12-01"
SERVICE = "rtc"
ALLOWED_METHOD = "POST"
_ACTION_NAME = re.compile(r"[A-Z][A-Za-z]{0,63}")
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Listed once per sandbox without importing any: a request imports only its own action's module.
_ACTION_MODULES = frozenset(
    name.removesuffix(".py")
    for directory in handler.actions.__path__
    for name in os.listdir(directory)
    if name.endswith(".py") and not name.startswith("_")
)


@dataclass(frozen=True)
class Route:
    """What the query string asked for, echoed in every answer, and the action if it exists."""

    action_name: str
    version: str


def requested_route(request: HttpRequest) -> Route:
    return Route(
        action_name=_sendable(request.query.get("Action", "")),
        version=_sendable(request.query.get("Version", "")) or VERSION,
    )


def _sendable(text: str) -> str:
    """`text` with each lone surrogate (valid in an event's JSON, not in UTF-8) as U+FFFD, so
    that the answer echoing it can be encoded and sent."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def module_name(action: str) -> str:
    return _WORD_START.sub("_", action).lower()


def action_names() -> list[str]:
    """Every Action this service implements, named from its module without importing it."""
    return sorted("".join(part.title() for part in module.split("_")) for module in _ACTION_MODULES)


def find_action_module(action: str) -> Action:
    module = importlib.import_module(f"handler.actions.{module_name(action)}")
    return cast("Action", module)


def check_route(request: HttpRequest) -> Action:
    if request.method != ALLOWED_METHOD:
        raise ApiError(
            ErrorCode.MethodNotAllowed,
            f"Method {request.method or '(none)'} is not allowed; use {ALLOWED_METHOD}",
        )
    action, version = request.query.get("Action"), request.query.get("Version")
    if not action:
        raise missing("Action is required in the query string")
    if not version:
        raise missing("Version is required in the query string")
    module = None
    if _ACTION_NAME.fullmatch(action) and module_name(action) in _ACTION_MODULES:
        module = find_action_module(action)
    if module is None or action != module.ACTION or version != VERSION:
        raise ApiError(
            ErrorCode.InvalidActionOrVersion,
            f"Action {_short(action)!r} with Version {_short(version)!r} is not supported; "
            f"Version is {VERSION} and the Actions are {', '.join(action_names())}",
        )
    return module


def success_payload(
    route: Route, request_id: str, region: str, result: BaseModel
) -> dict[str, Any]:
    return {
        "ResponseMetadata": _metadata(route, region, request_id),
        "Result": result.model_dump(exclude_none=True),
    }


def error_payload(route: Route, request_id: str, region: str, error: ErrorBody) -> dict[str, Any]:
    body: dict[str, Any] = {"Code": error.code, "Message": error.message}
    if error.code_n is not None:
        body = {"CodeN": error.code_n, **body}
    return {"ResponseMetadata": {**_metadata(route, region, request_id), "Error": body}}


def error_headers(error: ErrorBody) -> dict[str, str]:
    """HTTP requires a 405 to say which methods are allowed (RFC 9110, section 15.5.6)."""
    if error.code == ErrorCode.MethodNotAllowed.name:
        return {"Allow": ALLOWED_METHOD}
    return {}


def _metadata(route: Route, region: str, request_id: str) -> dict[str, Any]:
    return {
        "RequestId": request_id,
        "Action": route.action_name,
        "Version": route.version,
        "Service": SERVICE,
        "Region": region,
    }


def _short(text: str) -> str:
    return text if len(text) <= 64 else text[:64] + "…"
