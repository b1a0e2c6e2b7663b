"""CreateConversation: a single chat once per pair, an IdempotentId once per conversation."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from handler.actions import Dependencies, RateLimitClass
from handler.domain.conversations import CreateCommand, create_conversation
from handler.domain.model import SINGLE_CHAT
from handler.models import (
    AppIdInt,
    ConversationExt,
    ConversationInfo,
    ConversationTypeInt,
    InboxTypeInt,
    LongText,
    NameText,
    OptionalUserIdInt,
    UrlText,
    UserIdStr,
    VendorModel,
    conversation_info,
)

ACTION = "CreateConversation"
RATE_LIMIT: RateLimitClass = "write"


class CoreInfo(VendorModel):
    ConversationType: ConversationTypeInt = Field(
        description="1 single chat, 2 group chat, 100 live group."
    )
    Name: NameText = ""
    AvatarUrl: UrlText = ""
    Description: LongText = ""
    Notice: LongText = ""
    Ext: ConversationExt = Field(default_factory=dict)


class Request(VendorModel):
    USER_FIELDS = (("OwnerUserId", True), ("OtherUserId", False))

    AppId: AppIdInt
    OwnerUserId: OptionalUserIdInt = 0
    OwnerUserIdStr: UserIdStr = ""
    OtherUserId: OptionalUserIdInt = Field(
        default=0,
        description="Required for a single chat (ConversationType 1) and a different user from "
        'the owner; absent (0, "" or null) for the other types.',
    )
    OtherUserIdStr: UserIdStr = ""
    InboxType: InboxTypeInt = 0
    IdempotentId: Annotated[StrictStr, Field(max_length=128)] = Field(
        default="",
        description="Scoped to (AppId, InboxType): a repeat creates nothing and returns the "
        'conversation it created, with Exist true. "" counts as absent.',
    )
    ConversationCoreInfo: CoreInfo

    @model_validator(mode="after")
    def _users_fit_the_type(self) -> Request:
        owner, other = self.required_user("OwnerUserId"), self.user("OtherUserId")
        is_single = self.ConversationCoreInfo.ConversationType == SINGLE_CHAT
        if is_single and other is None:
            raise PydanticCustomError("missing_user", "OtherUserId is required for a single chat")
        if is_single and other == owner:
            raise PydanticCustomError(
                "rule_broken", "OtherUserId must name a different user from OwnerUserId"
            )
        if not is_single and other is not None:
            raise PydanticCustomError(
                "rule_broken",
                "OtherUserId must be absent unless ConversationCoreInfo.ConversationType is 1",
            )
        return self


class Result(BaseModel):
    ConversationShortId: int
    ConversationId: str
    Exist: bool
    ConversationInfo: ConversationInfo


def run(request: Request, dependencies: Dependencies) -> Result:
    core = request.ConversationCoreInfo
    command = CreateCommand(
        app_id=request.AppId,
        inbox_type=request.InboxType,
        conversation_type=core.ConversationType,
        owner=request.required_user("OwnerUserId"),
        other=request.user("OtherUserId"),
        idempotent_id=request.IdempotentId or None,
        name=core.Name,
        avatar_url=core.AvatarUrl,
        description=core.Description,
        notice=core.Notice,
        ext=core.Ext,
    )
    outcome = create_conversation(command, dependencies.store, dependencies.entropy)
    info = conversation_info(outcome.conversation)
    return Result(
        ConversationShortId=info.ConversationShortId,
        ConversationId=info.ConversationId,
        Exist=outcome.existed,
        ConversationInfo=info,
    )
