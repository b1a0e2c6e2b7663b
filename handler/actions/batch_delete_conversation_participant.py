"""BatchDeleteConversationParticipant: up to 50 members removed in one atomic write."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import RemoveCommand, remove_participants
from handler.domain.users import integer_user
from handler.models import ParticipantBatch, UserIdInt, unique_users

ACTION = "BatchDeleteConversationParticipant"
RATE_LIMIT: RateLimitClass = "write"


class Request(ParticipantBatch):
    ParticipantUserIds: Annotated[
        list[UserIdInt],
        Field(min_length=1, max_length=50),
        AfterValidator(unique_users),
    ]


class Result(BaseModel):
    FailedUserIds: list[int]


def run(request: Request, dependencies: Dependencies) -> Result:
    command = RemoveCommand(
        app_id=request.AppId,
        short_id=request.ConversationShortId,
        users=[integer_user(user) for user in request.ParticipantUserIds],
    )
    failed = remove_participants(command, dependencies.store, dependencies.entropy)
    return Result(FailedUserIds=[user.number for user in failed])
