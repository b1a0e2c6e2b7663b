"""BatchGetConversations: up to 100 conversations by id, in one consistent BatchGetItem."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, StrictBool

from handler.actions import Dependencies, RateLimitClass
from handler.domain.conversations import get_conversations
from handler.models import AppIdInt, ConversationInfo, ShortIdInt, VendorModel, conversation_info

ACTION = "BatchGetConversations"
RATE_LIMIT: RateLimitClass = "read"


class Request(VendorModel):
    ID_BATCH_FIELDS: ClassVar[tuple[str, ...]] = ("ConversationShortId",)

    AppId: AppIdInt
    ConversationShortId: list[ShortIdInt] = Field(
        min_length=1,
        max_length=100,
        description="An array of ids, singular as the vendor names it.",
    )
    SkipMemberCount: StrictBool = Field(
        default=False, description="Accepted; MemberCount is always returned."
    )


class Result(BaseModel):
    ConversationCoreInfos: list[ConversationInfo]


def run(request: Request, dependencies: Dependencies) -> Result:
    found = get_conversations(request.AppId, request.ConversationShortId, dependencies.store)
    return Result(ConversationCoreInfos=[conversation_info(item) for item in found])
