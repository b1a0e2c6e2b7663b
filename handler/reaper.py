"""Second Lambda entry point: removes a dissolved conversation's members in the background.

A dissolve touches only the conversation and its IdempotentId record (a live group may hold
10000 members, past one transaction's 100 items). The table's stream delivers the conversation
item whose Status became 1 (the template's event filter), and this function deletes its member
items. Until it has, they are in nobody's way: every read checks the conversation first.
"""

from __future__ import annotations

from typing import Any

from handler.settings import load_settings
from handler.store import DynamoDBConversationStore, client_settings_for, create_client
from handler.telemetry import Telemetry

settings = load_settings()
telemetry = Telemetry(settings)
store = DynamoDBConversationStore(
    client=create_client(client_settings_for(settings)),
    table_name=settings.table_name,
    write_budget_seconds=settings.write_budget_seconds,
)


def dissolved_conversations(event: dict[str, Any]) -> list[tuple[int, int]]:
    """(AppId, ConversationShortId) of each stream record that dissolved a conversation."""
    found = []
    for record in event.get("Records", []):
        new = record.get("dynamodb", {}).get("NewImage", {})
        old = record.get("dynamodb", {}).get("OldImage", {})
        dissolved = new.get("Status", {}).get("N") == "1" and old.get("Status", {}).get("N") != "1"
        if new.get("Kind", {}).get("S") == "Conversation" and dissolved:
            found.append((int(new["AppId"]["N"]), int(new["ConversationShortId"]["N"])))
    return found


def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, int]:
    """A failure raises, so Lambda retries the batch (deleting twice is harmless)."""
    removed = 0
    for app_id, short_id in dissolved_conversations(event):
        removed += store.purge_members(app_id, short_id)
    telemetry.logger.info("members of dissolved conversations removed", extra={"removed": removed})
    return {"removed": removed}
