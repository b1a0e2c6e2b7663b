"""The vendor's API surface: which requests are ours, and the BaseResponse envelope."""

from __future__ import annotations

from typing import Any

from handler.domain import Conversation, CreateCommand, CreateOutcome
from handler.errors import ApiError, ErrorBody, ErrorCode, missing
from handler.gateway import HttpRequest
from handler.models import (
    ConversationInfo,
    CreateConversationRequest,
    CreateConversationResult,
)

ACTION = "CreateConversation"
VERSION = "2020-12-01"
SERVICE = "rtc"
ALLOWED_METHOD = "POST"
ONLINE_COUNT_UNTRACKED = 0


def check_route(request: HttpRequest) -> None:
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
    if (action, version) != (ACTION, VERSION):
        raise ApiError(
            ErrorCode.InvalidActionOrVersion,
            f"Action {action!r} with Version {version!r} is not supported; "
            f"use Action={ACTION}&Version={VERSION}",
        )


def to_command(request: CreateConversationRequest) -> CreateCommand:
    core = request.ConversationCoreInfo
    return CreateCommand(
        app_id=request.AppId,
        inbox_type=request.InboxType,
        conversation_type=core.ConversationType,
        owner_user_id=request.OwnerUserId,
        other_user_id=request.OtherUserId or None,
        idempotent_id=request.IdempotentId or None,
        name=core.Name,
        avatar_url=core.AvatarUrl,
        description=core.Description,
        notice=core.Notice,
        ext=core.Ext,
    )


def conversation_info(conversation: Conversation) -> ConversationInfo:
    return ConversationInfo(
        ConversationShortId=conversation.short_id,
        AppId=conversation.app_id,
        InboxType=conversation.inbox_type,
        ConversationType=conversation.conversation_type,
        Name=conversation.name,
        AvatarUrl=conversation.avatar_url,
        Description=conversation.description,
        Notice=conversation.notice,
        Ext=dict(conversation.ext),
        OwnerUserId=conversation.owner_user_id,
        CreatorUserId=conversation.owner_user_id,
        OtherUserId=conversation.other_user_id,
        Status=conversation.status,
        CreateTime=conversation.create_time,
        ModifyTime=conversation.modify_time,
        MemberCount=conversation.member_count,
        OnlineCount=ONLINE_COUNT_UNTRACKED,
    )


def success_payload(request_id: str, region: str, outcome: CreateOutcome) -> dict[str, Any]:
    result = CreateConversationResult(
        ConversationShortId=outcome.conversation.short_id,
        Exist=outcome.existed,
        ConversationInfo=conversation_info(outcome.conversation),
    )
    return {
        "ResponseMetadata": _metadata(request_id, region),
        "Result": result.model_dump(exclude_none=True),
    }


def error_payload(request_id: str, region: str, error: ErrorBody) -> dict[str, Any]:
    body: dict[str, Any] = {"Code": error.code, "Message": error.message}
    if error.code_n is not None:
        body = {"CodeN": error.code_n, **body}
    return {"ResponseMetadata": {**_metadata(request_id, region), "Error": body}}


def error_headers(error: ErrorBody) -> dict[str, str]:
    """HTTP requires a 405 to say which methods are allowed (RFC 9110, section 15.5.6)."""
    if error.code == ErrorCode.MethodNotAllowed.name:
        return {"Allow": ALLOWED_METHOD}
    return {}


def _metadata(request_id: str, region: str) -> dict[str, Any]:
    return {
        "RequestId": request_id,
        "Action": ACTION,
        "Version": VERSION,
        "Service": SERVICE,
        "Region": region,
    }
