"""Calling any of the twelve actions through the real handler, and the bodies tests start from.

    response = call(service, "BatchGetConversations", {"AppId": 10, "ConversationShortId": [id]})

`call` builds a payload 2.0 event with `?Action=<action>&Version=2020-12-01` and returns the
handler's `Response`; `calls_made` counts the DynamoDB requests one call made.
"""

from __future__ import annotations

from typing import Any

from tests.support.backends import Response, Service
from tests.support.contract import CONTRACT_ERRORS
from tests.support.events import http_api_event

VERSION = "2020-12-01"
APP_ID = 10
OTHER_APP_ID = 11
OWNER = 10001
MEMBER = 20001


def query(action: str) -> dict[str, str]:
    return {"Action": action, "Version": VERSION}


def call(service: Service, action: str, body: Any, **event_options: Any) -> Response:
    """One request for `action` with `body` (a JSON-able value, or str/bytes as they are)."""
    return service.invoke(http_api_event(body, query=query(action), **event_options))


def ok(service: Service, action: str, body: Any) -> dict[str, Any]:
    """`call` that must succeed; returns its Result."""
    response = call(service, action, body)
    assert response.status == 200, response.payload
    assert response.payload["ResponseMetadata"]["Action"] == action
    return response.result


def calls_made(service: Service, action: str, body: Any) -> tuple[Response, list[str]]:
    """`call`, and the DynamoDB operations that one call made (in order)."""
    before = len(service.calls)
    response = call(service, action, body)
    return response, service.calls[before:]


def assert_error(response: Response, code: str) -> None:
    """The response is the contract's error `code`: HTTP status, Code, CodeN as the table says."""
    status, code_n = CONTRACT_ERRORS[code]
    error = response.payload["ResponseMetadata"]["Error"]
    assert (response.status, error["Code"]) == (status, code), response.payload
    assert error.get("CodeN") == code_n, error
    assert "Result" not in response.payload
    assert error["Message"]


def create_group(
    service: Service,
    owner: int | str = OWNER,
    *,
    app_id: int = APP_ID,
    conversation_type: int = 2,
    inbox_type: int = 0,
    **core: Any,
) -> dict[str, Any]:
    """A new group (or live group, type 100); returns its ConversationInfo."""
    body: dict[str, Any] = {
        "AppId": app_id,
        "InboxType": inbox_type,
        "ConversationCoreInfo": {"ConversationType": conversation_type, **core},
    }
    body.update(_user("OwnerUserId", owner))
    return dict(ok(service, "CreateConversation", body)["ConversationInfo"])


def create_single(
    service: Service,
    owner: int | str = OWNER,
    other: int | str = 10002,
    *,
    app_id: int = APP_ID,
    inbox_type: int = 0,
) -> dict[str, Any]:
    """A new single chat between `owner` and `other`; returns its ConversationInfo."""
    body: dict[str, Any] = {
        "AppId": app_id,
        "InboxType": inbox_type,
        "ConversationCoreInfo": {"ConversationType": 1},
        **_user("OwnerUserId", owner),
        **_user("OtherUserId", other),
    }
    return dict(ok(service, "CreateConversation", body)["ConversationInfo"])


def add_members(
    service: Service, short_id: int, users: list[int], *, app_id: int = APP_ID
) -> dict[str, Any]:
    """BatchAddConversationParticipant of `users` (Role 0); returns its Result."""
    return ok(
        service,
        "BatchAddConversationParticipant",
        {
            "AppId": app_id,
            "ConversationShortId": short_id,
            "Operator": OWNER,
            "ParticipantInfos": [{"ParticipantUserId": user} for user in users],
        },
    )


def remove_members(
    service: Service, short_id: int, users: list[int], *, app_id: int = APP_ID
) -> dict[str, Any]:
    """BatchDeleteConversationParticipant of `users`; returns its Result."""
    return ok(
        service,
        "BatchDeleteConversationParticipant",
        {
            "AppId": app_id,
            "ConversationShortId": short_id,
            "Operator": OWNER,
            "ParticipantUserIds": users,
        },
    )


def destroy(
    service: Service, short_id: int, owner: int | str = OWNER, *, app_id: int = APP_ID
) -> Response:
    """DestroyConversation named by `owner`."""
    body = {"AppId": app_id, "ConversationShortId": short_id, **_user("OwnerUserId", owner)}
    return call(service, "DestroyConversation", body)


def id_bodies(
    short_id: int, app_id: int = APP_ID, member: int = MEMBER
) -> dict[str, dict[str, Any]]:
    """A valid request of every action that names one conversation by id, on `short_id`
    (`member` is the user the member actions name besides OWNER)."""
    common = {"AppId": app_id, "ConversationShortId": short_id}
    return {
        "ModifyConversation": {
            "AppId": app_id,
            "ConversationCoreInfo": {"ConversationShortId": short_id, "Name": "x"},
        },
        "DestroyConversation": {**common, "OwnerUserId": OWNER},
        "BatchAddConversationParticipant": {
            **common,
            "Operator": OWNER,
            "ParticipantInfos": [{"ParticipantUserId": 30003}],
        },
        "BatchDeleteConversationParticipant": {
            **common,
            "Operator": OWNER,
            "ParticipantUserIds": [member],
        },
        "BatchModifyConversationParticipant": {
            **common,
            "Operator": OWNER,
            "ParticipantInfos": [{"ParticipantUserId": member, "NickName": "n"}],
        },
        "BatchGetConversationParticipant": {**common, "ParticipantUserIds": [OWNER, member]},
        "ScanConversationParticipantList": {**common, "Limit": 20},
        "GetConversationUserCount": common,
        "IsUserInConversation": {**common, "ParticipantUserId": OWNER},
    }


def _user(field: str, user: int | str) -> dict[str, Any]:
    return {f"{field}Str": user} if isinstance(user, str) else {field: user}
