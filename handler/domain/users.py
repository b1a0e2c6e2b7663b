"""Users: named by an integer or, for apps with string ids, by a string (README section 3)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class UserRef:
    """Exactly one of `number` (non-zero) and `text` (non-empty) names the user.

    Integer 10001 and string "10001" are different users: their keys differ in the first
    character, and nothing follows a string user's text in any key, so "#" inside it is harmless.
    """

    number: int = 0
    text: str = ""

    def __post_init__(self) -> None:
        if (self.number != 0) == (self.text != ""):
            raise ValueError("a user is named by exactly one of an integer and a string")

    @property
    def key(self) -> str:
        return f"s{self.text}" if self.text else f"i{self.number}"

    @classmethod
    def from_key(cls, key: str) -> UserRef:
        if key.startswith("s"):
            return cls(text=key[1:])
        return cls(number=int(key[1:]))

    @property
    def label(self) -> str:
        """How messages name the user."""
        return repr(self.text) if self.text else str(self.number)


def integer_user(number: int) -> UserRef:
    return UserRef(number=number)
