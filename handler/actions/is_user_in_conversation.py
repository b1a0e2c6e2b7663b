"""IsUserInConversation: one consistent read of the conversation and the member together."""

from __future__ import annotations

from pydantic import BaseModel

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import is_member
from handler.domain.users import integer_user
from handler.models import AppIdInt, ShortIdInt, UserIdInt, VendorModel

ACTION = "IsUserInConversation"
RATE_LIMIT: RateLimitClass = "read"


class Request(VendorModel):
    AppId: AppIdInt
    ConversationShortId: ShortIdInt
    ParticipantUserId: UserIdInt


class Result(BaseModel):
    IsUserInConversation: bool


def run(request: Request, dependencies: Dependencies) -> Result:
    member = is_member(
        request.AppId,
        request.ConversationShortId,
        integer_user(request.ParticipantUserId),
        dependencies.store,
    )
    return Result(IsUserInConversation=member)
