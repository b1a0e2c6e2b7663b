"""ScanConversationParticipantList: members in joining order, paged by join number."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import ScanQuery, scan_participants
from handler.models import (
    AppIdInt,
    CursorInt,
    ScannedParticipant,
    ShortIdInt,
    VendorModel,
    between,
    scanned_participant,
)

ACTION = "ScanConversationParticipantList"
RATE_LIMIT: RateLimitClass = "read"
LIMIT_MAX = 20
LIMIT_MAX_ONLY_USER_IDS = 50


class Request(VendorModel):
    AppId: AppIdInt
    ConversationShortId: ShortIdInt
    Cursor: CursorInt = Field(default=0, description="0 or 1 start; NextCursor resumes.")
    Limit: Annotated[StrictInt, between(1, LIMIT_MAX_ONLY_USER_IDS)] = Field(
        description="1 ... 20, or 1 ... 50 with OnlyUserIds."
    )
    OnlyUserIds: StrictBool = False
    Reverse: StrictBool = Field(default=False, description="Newest members first.")
    ScanOnlineParticipant: StrictBool = Field(
        default=False, description="Online members only: none, since no presence is kept."
    )
    MarkType: Annotated[StrictStr, Field(max_length=128)] = Field(
        default="", description="Accepted; live-group marks are not kept."
    )

    @model_validator(mode="after")
    def _limit_fits_the_projection(self) -> Request:
        if not self.OnlyUserIds and self.Limit > LIMIT_MAX:
            raise PydanticCustomError(
                "rule_broken",
                "Limit must be between 1 and {low} unless OnlyUserIds is true",
                {"low": LIMIT_MAX},
            )
        return self


class Result(BaseModel):
    Participants: list[ScannedParticipant]
    HasMore: bool
    NextCursor: int = Field(description="Fits in int32, as the vendor's Go SDK decodes it.")


def run(request: Request, dependencies: Dependencies) -> Result:
    page = scan_participants(
        ScanQuery(
            app_id=request.AppId,
            short_id=request.ConversationShortId,
            cursor=request.Cursor,
            limit=request.Limit,
            reverse=request.Reverse,
            online_only=request.ScanOnlineParticipant,
        ),
        dependencies.store,
    )
    return Result(
        Participants=[
            scanned_participant(member, only_user_ids=request.OnlyUserIds) for member in page.items
        ],
        HasMore=page.has_more,
        NextCursor=page.next_cursor,
    )
