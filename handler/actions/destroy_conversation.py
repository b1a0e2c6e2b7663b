"""DestroyConversation: the owner dissolves a group or live group; a retry succeeds again."""

from __future__ import annotations

from handler.actions import Dependencies, RateLimitClass
from handler.domain.conversations import DestroyCommand, destroy_conversation
from handler.models import (
    AppIdInt,
    EmptyResult,
    OptionalUserIdInt,
    ShortIdInt,
    UserIdStr,
    VendorModel,
)

ACTION = "DestroyConversation"
RATE_LIMIT: RateLimitClass = "write"


class Request(VendorModel):
    USER_FIELDS = (("OwnerUserId", True),)

    AppId: AppIdInt
    ConversationShortId: ShortIdInt
    OwnerUserId: OptionalUserIdInt = 0
    OwnerUserIdStr: UserIdStr = ""


def run(request: Request, dependencies: Dependencies) -> EmptyResult:
    command = DestroyCommand(
        request.AppId, request.ConversationShortId, request.required_user("OwnerUserId")
    )
    destroy_conversation(command, dependencies.store, dependencies.entropy)
    return EmptyResult()
