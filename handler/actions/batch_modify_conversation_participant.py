"""BatchModifyConversationParticipant: up to 50 members changed in one atomic write."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import ModifyMembersCommand, ParticipantChange, modify_participants
from handler.domain.model import MemberPatch
from handler.domain.users import integer_user
from handler.models import Int64AtLeastZero, ParticipantBatch, ParticipantItem, each_user_once

ACTION = "BatchModifyConversationParticipant"
RATE_LIMIT: RateLimitClass = "write"


class ParticipantInfo(ParticipantItem):
    BlockTime: Int64AtLeastZero | None = Field(
        default=None, description="Muted until this epoch second; 0 unmutes."
    )


class Request(ParticipantBatch):
    ParticipantInfos: Annotated[
        list[ParticipantInfo], Field(min_length=1, max_length=50), AfterValidator(each_user_once)
    ]


class Result(BaseModel):
    FailedUserIds: list[int]


def run(request: Request, dependencies: Dependencies) -> Result:
    command = ModifyMembersCommand(
        app_id=request.AppId,
        short_id=request.ConversationShortId,
        changes=[
            ParticipantChange(
                user=integer_user(info.ParticipantUserId),
                patch=MemberPatch(
                    role=info.Role,
                    nick_name=info.NickName,
                    level=info.Level,
                    ext=info.Ext,
                    block_time=info.BlockTime,
                ),
            )
            for info in request.ParticipantInfos
        ],
    )
    failed = modify_participants(command, dependencies.store, dependencies.entropy)
    return Result(FailedUserIds=[user.number for user in failed])
