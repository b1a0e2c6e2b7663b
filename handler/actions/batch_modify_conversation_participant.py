"""BatchModifyConversationParticipant: up to 50 members changed in one atomic write."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import ModifyMembersCommand, ParticipantChange, modify_participants
from handler.domain.model import ROLE_MEMBER, ROLES, MemberPatch
from handler.domain.users import integer_user
from handler.models import (
    AppIdInt,
    Int32AtLeastZero,
    Int64AtLeastZero,
    MemberExt,
    NameText,
    RoleInt,
    ShortIdInt,
    UserIdInt,
    VendorModel,
    unique_users,
)

ACTION = "BatchModifyConversationParticipant"
RATE_LIMIT: RateLimitClass = "write"


class ParticipantInfo(VendorModel):
    ParticipantUserId: UserIdInt
    Role: RoleInt | None = Field(
        default=None, description="0 member, 2 manager (1 only for the owner); absent: unchanged."
    )
    NickName: NameText | None = None
    Level: Int32AtLeastZero | None = None
    Ext: MemberExt | None = None
    BlockTime: Int64AtLeastZero | None = Field(
        default=None, description="Muted until this epoch second; 0 unmutes."
    )


class Request(VendorModel):
    AppId: AppIdInt
    ConversationShortId: ShortIdInt
    Operator: UserIdInt = Field(description="Not checked, as the vendor does.")
    ParticipantInfos: Annotated[list[ParticipantInfo], Field(min_length=1, max_length=50)]

    @field_validator("ParticipantInfos")
    @classmethod
    def _each_user_once(cls, infos: list[ParticipantInfo]) -> list[ParticipantInfo]:
        unique_users([info.ParticipantUserId for info in infos], "ParticipantInfos")
        return infos


class Result(BaseModel):
    FailedUserIds: list[int]


def _role(value: int | None) -> int | None:
    if value is None:
        return None
    return value if value in ROLES else ROLE_MEMBER


def run(request: Request, dependencies: Dependencies) -> Result:
    command = ModifyMembersCommand(
        app_id=request.AppId,
        short_id=request.ConversationShortId,
        changes=[
            ParticipantChange(
                user=integer_user(info.ParticipantUserId),
                patch=MemberPatch(
                    role=_role(info.Role),
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
