"""GetUserConversations: a user's conversations, paged by ConversationShortId."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt

from handler.actions import Dependencies, RateLimitClass
from handler.domain.conversations import UserConversationsQuery, list_user_conversations
from handler.models import (
    AppIdInt,
    ConversationInfo,
    CursorInt,
    InboxTypeInt,
    OneOf,
    OptionalUserIdInt,
    UserIdStr,
    VendorModel,
    between,
    conversation_info,
)

ACTION = "GetUserConversations"
RATE_LIMIT: RateLimitClass = "read"


class Request(VendorModel):
    USER_FIELDS = (("ParticipantUserId", True),)

    AppId: AppIdInt
    ParticipantUserId: OptionalUserIdInt = 0
    ParticipantUserIdStr: UserIdStr = ""
    InboxType: InboxTypeInt = 0
    Cursor: CursorInt = Field(default=0, description="0 or 1 start; NextCursor resumes.")
    Limit: Annotated[StrictInt, between(1, 20)]
    DataType: Annotated[StrictInt, OneOf((0, 1, 2))] = Field(
        default=0, description="0 newest first, 1 oldest first, 2 live groups the user owns."
    )
    SkipMemberCount: StrictBool = False


class Result(BaseModel):
    ConversationInfos: list[ConversationInfo]
    HasMore: bool
    NextCursor: int


def run(request: Request, dependencies: Dependencies) -> Result:
    page = list_user_conversations(
        UserConversationsQuery(
            app_id=request.AppId,
            inbox_type=request.InboxType,
            user=request.required_user("ParticipantUserId"),
            cursor=request.Cursor,
            limit=request.Limit,
            data_type=request.DataType,
        ),
        dependencies.store,
    )
    return Result(
        ConversationInfos=[conversation_info(item) for item in page.items],
        HasMore=page.has_more,
        NextCursor=page.next_cursor,
    )
