"""GetConversationUserCount: MemberCount, exact, in one consistent read."""

from __future__ import annotations

from pydantic import BaseModel

from handler.actions import Dependencies, RateLimitClass
from handler.domain.members import count_members
from handler.models import AppIdInt, ShortIdInt, VendorModel

ACTION = "GetConversationUserCount"
RATE_LIMIT: RateLimitClass = "read"


class Request(VendorModel):
    AppId: AppIdInt
    ConversationShortId: ShortIdInt


class Result(BaseModel):
    Count: int


def run(request: Request, dependencies: Dependencies) -> Result:
    count = count_members(request.AppId, request.ConversationShortId, dependencies.store)
    return Result(Count=count)
