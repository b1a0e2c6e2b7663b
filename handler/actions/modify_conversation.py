"""ModifyConversation: a partial update of a conversation, owner transfer included."""

from __future__ import annotations

from pydantic import Field

from handler.actions import Dependencies, RateLimitClass
from handler.domain.conversations import ModifyCommand, modify_conversation
from handler.domain.model import ConversationPatch
from handler.models import (
    AppIdInt,
    ConversationExt,
    EmptyResult,
    LongText,
    NameText,
    OptionalUserIdInt,
    ShortIdInt,
    UrlText,
    UserIdStr,
    VendorModel,
)

ACTION = "ModifyConversation"
RATE_LIMIT: RateLimitClass = "write"


class CoreInfo(VendorModel):
    USER_FIELDS = (("OwnerUserId", False),)

    ConversationShortId: ShortIdInt
    Name: NameText | None = None
    AvatarUrl: UrlText | None = None
    Description: LongText | None = None
    Notice: LongText | None = None
    Ext: ConversationExt | None = Field(default=None, description="Replaces the whole map.")
    OwnerUserId: OptionalUserIdInt = Field(
        default=0, description="Another member: the ownership moves to them."
    )
    OwnerUserIdStr: UserIdStr = ""


class Request(VendorModel):
    AppId: AppIdInt
    ConversationCoreInfo: CoreInfo


def run(request: Request, dependencies: Dependencies) -> EmptyResult:
    core = request.ConversationCoreInfo
    patch = ConversationPatch(
        name=core.Name,
        avatar_url=core.AvatarUrl,
        description=core.Description,
        notice=core.Notice,
        ext=core.Ext,
        owner=core.user("OwnerUserId"),
    )
    command = ModifyCommand(request.AppId, core.ConversationShortId, patch)
    modify_conversation(command, dependencies.store, dependencies.entropy)
    return EmptyResult()
