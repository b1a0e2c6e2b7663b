"""BatchAddConversationParticipant: up to 50 members added or updated, all or nothing."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, field_validator

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import AddCommand, NewParticipant, add_participants
from handler.domain.model import ROLE_MEMBER, ROLES
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

ACTION = "BatchAddConversationParticipant"
RATE_LIMIT: RateLimitClass = "write"


class ParticipantInfo(VendorModel):
    ParticipantUserId: UserIdInt
    Role: RoleInt | None = Field(
        default=None, description="0 member, 1 owner, 2 manager; any other integer means 0."
    )
    NickName: NameText | None = None
    Level: Int32AtLeastZero | None = None
    Ext: MemberExt | None = None
    ReadIndex: Int64AtLeastZero | None = Field(default=None, description="Stored.")


class Request(VendorModel):
    AppId: AppIdInt
    ConversationShortId: ShortIdInt
    Operator: UserIdInt = Field(description="Stored as who added the members; not checked.")
    ParticipantInfos: Annotated[list[ParticipantInfo], Field(min_length=1, max_length=50)]
    Barrier: StrictBool = Field(default=False, description="Accepted; no messages are kept.")

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
    command = AddCommand(
        app_id=request.AppId,
        short_id=request.ConversationShortId,
        operator=integer_user(request.Operator),
        participants=[
            NewParticipant(
                user=integer_user(info.ParticipantUserId),
                role=_role(info.Role),
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
