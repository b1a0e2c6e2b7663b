"""One module per vendor Action, named after it (BatchGetConversations -> batch_get_conversations).

Each module owns its request model (`Request`), its result model and its call into the domain
(`run`), and says which per-action rate limit applies (`RATE_LIMIT`). The router finds a module
by the Action's name; adding an action is adding its module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from pydantic import BaseModel

    from handler.domain.ids import Entropy
    from handler.domain.model import MemberLimits
    from handler.domain.ports import Store
    from handler.models import VendorModel

# The vendor's documented per-action limits: 50/s for writes, 100/s for reads (README section 6).
RateLimitClass = Literal["write", "read"]


@dataclass(frozen=True)
class Dependencies:
    """What an action's domain call gets: one request's store, the entropy, the limits."""

    store: Store
    entropy: Entropy
    member_limits: MemberLimits


class Action(Protocol):
    ACTION: str
    RATE_LIMIT: RateLimitClass
    Request: type[VendorModel]

    def run(self, request: VendorModel, dependencies: Dependencies) -> BaseModel: ...


class SupportsAppId(Protocol):
    AppId: int
