"""The contract's tables, written out once: what the tests hold the service to."""

from __future__ import annotations

# Section 5: Code -> (HTTP status, CodeN or None for "—").
CONTRACT_ERRORS: dict[str, tuple[int, int | None]] = {
    "MissingParameter": (400, 100002),
    "JsonParsingError": (400, None),
    "InvalidParam": (400, None),
    "InvalidActionOrVersion": (404, 100008),
    "MethodNotAllowed": (405, None),
    "RequestEntityTooLarge": (413, None),
    "MissingAuthenticationToken": (401, 100003),
    "MissingSignature": (401, 100005),
    "InvalidTimestamp": (400, 100006),
    "InvalidAccessKey": (401, 100009),
    "SignatureDoesNotMatch": (401, 100010),
    "AccessDenied": (403, 100013),
    "FlowLimitExceeded": (429, None),
    "InternalError": (500, 100014),
    "ServiceUnavailableTemp": (503, None),
    "InternalServiceTimeout": (504, 100016),
    "ConversationNotFound": (404, None),
    "ConversationShortIdsHasInvalidElem": (400, None),
    "SingleConversationNotSupport": (400, None),
    "LiveConversationNotSupport": (400, None),
    "OnlyOwnerCanOperator": (403, None),
    "OwnerShouldBeEqual": (400, None),
    "ParticipantNotInConversation": (400, None),
    "ConversationParticipantsMoreThanLimit": (400, None),
}
# The fields of every ConversationInfo answered; a single chat's also has OtherUserId.
INFO_FIELDS = {
    "ConversationShortId", "ConversationId", "AppId", "InboxType", "ConversationType", "Name",
    "AvatarUrl", "Description", "Notice", "Ext", "OwnerUserId", "CreatorUserId", "Status",
    "CreateTime", "ModifyTime", "MemberCount", "OnlineCount",
}  # fmt: skip
