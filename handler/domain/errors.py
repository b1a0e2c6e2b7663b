"""What the domain refuses, and what storage failed at. errors.py maps each to the wire."""

from __future__ import annotations


class Refusal(Exception):
    """A rule of the contract stops the request; the message is for the caller."""


class ConversationNotFound(Refusal):
    pass


class SingleConversationNotSupport(Refusal):
    pass


class LiveConversationNotSupport(Refusal):
    pass


class OnlyOwnerCanOperator(Refusal):
    pass


class OwnerShouldBeEqual(Refusal):
    pass


class ParticipantNotInConversation(Refusal):
    pass


class ConversationParticipantsMoreThanLimit(Refusal):
    pass


class StoreUnavailableError(Exception):
    """Storage throttled or unreachable, or writes kept conflicting, and retries ran out."""


class StoreTimeoutError(Exception):
    """Storage did not answer in time, and retries ran out."""


class ShortIdExhaustedError(Exception):
    """Every drawn ConversationShortId collided; only possible with a broken random source."""


def not_found(short_id: int) -> ConversationNotFound:
    # The same words for a missing, a foreign and a dissolved id (README section 6).
    return ConversationNotFound(f"Conversation {short_id} does not exist")
