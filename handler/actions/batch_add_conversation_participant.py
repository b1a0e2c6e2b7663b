"""BatchAddConversationParticipant: up to 50 members added or updated, all or nothing."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictBool

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import AddCommand, NewParticipant, add_participants
from handler.domain.users import integer_user
from handler.models import Int64AtLeastZero, ParticipantBatch, ParticipantItem, each_user_once

ACTION = "BatchAddConversationParticipant"
RATE_LIMIT: RateLimitClass = "write"


class ParticipantInfo(ParticipantItem):
    ReadIndex: Int64AtLeastZero | None = Field(default=None, description="Stored.")


class Request(ParticipantBatch):
    ParticipantInfos: Annotated[
        list[ParticipantInfo], Field(min_length=1, max_length=50), AfterValidator(each_user_once)
    ]
    Barrier: StrictBool = Field(default=False, description="Accepted; no messages are kept.")


class Result(BaseModel):
    FailedUserIds: list[int]


def run(request: Request, dependencies: Dependencies) -> Result:
    command = AddCommand(
        app_id=request.AppId,
        short_id=request.ConversationShortId,
        operator=integer_user(request.Operator),
        participants=[
            NewParticipant(
                user=integer_user(info.ParticipantUserId),
                role=info.Role,
                nick_name=info.NickName,
                level=info.Level,
                ext=info.Ext,
                read_index=info.ReadIndex,
            )
            for info in request.ParticipantInfos
        ],
    )
    failed = add_participants(
        command, dependencies.store, dependencies.entropy, dependencies.member_limits
    )
    return Result(FailedUserIds=[user.number for user in failed])
