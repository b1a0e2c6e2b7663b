"""BatchGetConversationParticipant: up to 100 members by id, read consistently."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import get_participants
from handler.domain.users import integer_user
from handler.models import (
    AppIdInt,
    ParticipantInfo,
    ShortIdInt,
    UserIdInt,
    VendorModel,
    participant_info,
)

ACTION = "BatchGetConversationParticipant"
RATE_LIMIT: RateLimitClass = "read"


class Request(VendorModel):
    AppId: AppIdInt
    ConversationShortId: ShortIdInt
    ParticipantUserIds: Annotated[list[UserIdInt], Field(min_length=1, max_length=100)]


class Result(BaseModel):
    Participants: list[ParticipantInfo]


def run(request: Request, dependencies: Dependencies) -> Result:
    users = [integer_user(user) for user in request.ParticipantUserIds]
    members = get_participants(
        request.AppId, request.ConversationShortId, users, dependencies.store
    )
    return Result(Participants=[participant_info(member) for member in members])
