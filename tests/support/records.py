"""Domain records for tests that need one without a store: every field at a plain default."""

from __future__ import annotations

from typing import Any

from handler.domain.model import FIRST_JOIN_NUMBER, GROUP_CHAT, STATUS_NORMAL, Conversation
from handler.domain.users import UserRef


def a_conversation(**fields: Any) -> Conversation:
    """A live group of one member, its owner user 1, with `fields` in place of the defaults.

    The creator is the owner unless given, as a create makes it.
    """
    owner = fields.get("owner", UserRef(number=1))
    defaults: dict[str, Any] = {
        "short_id": 42,
        "app_id": 7,
        "inbox_type": 0,
        "conversation_type": GROUP_CHAT,
        "owner": owner,
        "creator": owner,
        "other": None,
        "name": "",
        "avatar_url": "",
        "description": "",
        "notice": "",
        "ext": {},
        "status": STATUS_NORMAL,
        "create_time": 1,
        "modify_time": 1,
        "member_count": 1,
        "next_join_number": FIRST_JOIN_NUMBER + 1,
        "owner_join_number": FIRST_JOIN_NUMBER,
    }
    return Conversation(**{**defaults, **fields})
