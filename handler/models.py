"""API models shared by the actions: field types, the conversation and member objects.

Each action's module owns its request and result models, built from these. Every rule of the
contract's section 2 lives here. Validation is strict (no coercion), so
"10001", 1.0 and true are not integers, as the vendor's Go SDK types would have it. Strict
strings also refuse lone surrogates ("\\ud800"), which parse from JSON but cannot be stored or
echoed as UTF-8.
"""

from __future__ import annotations

import json
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Protocol, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from handler.domain.ids import ID_MAX
from handler.domain.model import ROLE_MEMBER, ROLES, Conversation, Member
from handler.domain.users import UserRef

_SCHEMA_ANNOTATIONS = {"default", "description", "title"}
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
CONVERSATION_TYPES = (1, 2, 100)
CONVERSATION_EXT_MAX_BYTES = 16 * 1024
MEMBER_EXT_MAX_BYTES = 4 * 1024
ONLINE_COUNT_UNTRACKED = 0


class _IntegerRule(ABC):
    """A rule on an integer, checked with the contract's message and stated in JSON Schema.

    A plain AfterValidator would check it, but leave the generated schema (docs, OpenAPI)
    without the bound.
    """

    @abstractmethod
    def check(self, value: int) -> int: ...

    @abstractmethod
    def json_schema(self) -> JsonSchemaValue: ...

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), **self.json_schema()}


@dataclass(frozen=True)
class _Between(_IntegerRule):
    low: int
    high: int
    absent: int | None = None
    """The one value outside the range that means "not given"."""

    def check(self, value: int) -> int:
        if value != self.absent and not self.low <= value <= self.high:
            explanation = "" if self.absent is None else f" ({self.absent} or null mean absent)"
            raise PydanticCustomError(
                "out_of_range",
                "must be between {low} and {high}{explanation}",
                {"low": self.low, "high": self.high, "explanation": explanation},
            )
        return value

    def json_schema(self) -> JsonSchemaValue:
        low = self.low if self.absent is None else min(self.low, self.absent)
        return {"minimum": low, "maximum": self.high}


@dataclass(frozen=True)
class _OneOf(_IntegerRule):
    values: tuple[int, ...]

    def check(self, value: int) -> int:
        if value not in self.values:
            listed = ", ".join(str(allowed) for allowed in self.values)
            raise PydanticCustomError("not_one_of", "must be one of {values}", {"values": listed})
        return value

    def json_schema(self) -> JsonSchemaValue:
        return {"enum": list(self.values)}


@dataclass(frozen=True)
class _ExtSize:
    """The contract's cap on a whole Ext map, as compact UTF-8 JSON."""

    max_bytes: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: dict[str, str]) -> dict[str, str]:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
        if size > self.max_bytes:
            raise PydanticCustomError(
                "ext_too_large",
                "must be at most {max_bytes} bytes as compact UTF-8 JSON ({size} given)",
                {"max_bytes": self.max_bytes, "size": size},
            )
        return value


def _no_control_characters(value: str) -> str:
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value


between = _Between
OneOf = _OneOf
AppIdInt = Annotated[StrictInt, _Between(1, INT32_MAX)]
UserIdInt = Annotated[StrictInt, _Between(1, INT64_MAX)]
OptionalUserIdInt = Annotated[StrictInt, _Between(1, INT64_MAX, absent=0)]
UserIdStr = Annotated[StrictStr, Field(max_length=128), AfterValidator(_no_control_characters)]
InboxTypeInt = Annotated[StrictInt, _Between(0, INT32_MAX)]
ConversationTypeInt = Annotated[StrictInt, _OneOf(CONVERSATION_TYPES)]
ShortIdInt = Annotated[StrictInt, _Between(1, ID_MAX)]
CursorInt = Annotated[StrictInt, _Between(-INT64_MAX - 1, INT64_MAX)]
Int32AtLeastZero = Annotated[StrictInt, _Between(0, INT32_MAX)]
Int64AtLeastZero = Annotated[StrictInt, _Between(0, INT64_MAX)]
ExtKey = Annotated[StrictStr, Field(min_length=1, max_length=64)]
ExtValue = Annotated[StrictStr, Field(max_length=1024)]
ConversationExt = Annotated[
    dict[ExtKey, ExtValue], Field(max_length=100), _ExtSize(CONVERSATION_EXT_MAX_BYTES)
]
MemberExt = Annotated[dict[ExtKey, ExtValue], Field(max_length=100), _ExtSize(MEMBER_EXT_MAX_BYTES)]
NameText = Annotated[StrictStr, Field(max_length=100)]
UrlText = Annotated[StrictStr, Field(max_length=1024)]
LongText = Annotated[StrictStr, Field(max_length=1000)]


def user_of(number: int, text: str, field: str, *, required: bool = True) -> UserRef | None:
    """README section 3: the integer if non-zero, else the string if non-empty, else missing."""
    if number and text:
        raise PydanticCustomError(
            "rule_broken", "{field} and {field}Str name one user: give only one", {"field": field}
        )
    if number:
        return UserRef(number=number)
    if text:
        return UserRef(text=text)
    if required:
        raise PydanticCustomError("missing_user", "{field} is required", {"field": field})
    return None


class _NamesAParticipant(Protocol):
    @property
    def ParticipantUserId(self) -> int: ...


ItemT = TypeVar("ItemT", bound=_NamesAParticipant)


def unique_users(users: list[int], *, field: str = "") -> list[int]:
    """Refuse a user named twice; the message continues the list's path to the repeat."""
    first_at: dict[int, int] = {}
    for index, user in enumerate(users):
        if user in first_at:
            raise PydanticCustomError(
                "rule_broken",
                "[{index}]{field} repeats user {user} (first at [{first}])",
                {"index": index, "field": field, "user": user, "first": first_at[user]},
            )
        first_at[user] = index
    return users


class VendorModel(BaseModel):
    """A request model: strict types, unknown fields ignored, null means absent.

    `USER_FIELDS` names the integer fields that have a `…Str` twin, and whether the user is
    required; `user(name)` reads the pair by README section 3's rule.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    USER_FIELDS: ClassVar[tuple[tuple[str, bool], ...]] = ()

    def user(self, name: str) -> UserRef | None:
        required = dict(self.USER_FIELDS)[name]
        return user_of(getattr(self, name), getattr(self, f"{name}Str"), name, required=required)

    def required_user(self, name: str) -> UserRef:
        user = self.user(name)
        if user is None:
            raise ValueError(f"{name} is optional; use user()")
        return user

    @model_validator(mode="after")
    def _users_are_named_once(self) -> Self:
        for name, _ in self.USER_FIELDS:
            self.user(name)
        return self

    @model_validator(mode="before")
    @classmethod
    def _null_means_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """State _null_means_absent in the schema: an optional field may also be null."""
        json_schema = handler.resolve_ref_schema(handler(schema))
        required = set(json_schema.get("required", ()))
        properties = json_schema.get("properties", {})
        for name, field_schema in properties.items():
            if name not in required:
                annotations = {
                    key: field_schema.pop(key) for key in _SCHEMA_ANNOTATIONS & field_schema.keys()
                }
                properties[name] = {"anyOf": [field_schema, {"type": "null"}], **annotations}
        return json_schema


# --- what the participant batch writes share --------------------------------------------------


def _vendor_role(value: int) -> int:
    """0 member, 1 owner, 2 manager; any other integer means 0, as the vendor does."""
    return value if value in ROLES else ROLE_MEMBER


RoleInt = Annotated[StrictInt, _Between(-INT64_MAX - 1, INT64_MAX), AfterValidator(_vendor_role)]


class ParticipantItem(VendorModel):
    """A member as BatchAdd and BatchModify name it; absent fields are left as they are."""

    ParticipantUserId: UserIdInt
    Role: RoleInt | None = Field(
        default=None, description="0 member, 1 owner, 2 manager; any other integer means 0."
    )
    NickName: NameText | None = None
    Level: Int32AtLeastZero | None = None
    Ext: MemberExt | None = None


class ParticipantBatch(VendorModel):
    """The conversation and operator a participant batch write names."""

    AppId: AppIdInt
    ConversationShortId: ShortIdInt
    Operator: UserIdInt = Field(description="Stored as who added members; never checked.")


def each_user_once(items: list[ItemT]) -> list[ItemT]:
    unique_users([item.ParticipantUserId for item in items], field=".ParticipantUserId")
    return items


# --- the objects answers carry ------------------------------------------------------------------


class AnswerModel(BaseModel):
    """A model of an answer: its validator is built when first used, not at import.

    A cold start then builds only what its first request answers with (a create needs no member
    object), and the envelope models, which only the OpenAPI document uses, are never built in
    the function.
    """

    model_config = ConfigDict(defer_build=True)


class ConversationInfo(AnswerModel):
    """The contract's conversation object; `…Str` twins and OtherUserId only where they apply."""

    ConversationShortId: int
    ConversationId: str
    AppId: int
    InboxType: int
    ConversationType: int
    Name: str
    AvatarUrl: str
    Description: str
    Notice: str
    Ext: dict[str, str]
    OwnerUserId: int
    OwnerUserIdStr: str | None = None
    CreatorUserId: int
    CreatorUserIdStr: str | None = None
    OtherUserId: int | None = None
    OtherUserIdStr: str | None = None
    Status: int
    CreateTime: int
    ModifyTime: int
    MemberCount: int
    OnlineCount: int


class ParticipantInfo(AnswerModel):
    """The contract's member object, as BatchGetConversationParticipant answers it."""

    ConversationShortId: int
    ParticipantUserId: int
    Role: int
    NickName: str
    Level: int
    Ext: dict[str, str]
    AvatarUrl: str
    Operator: int
    CreateTime: int
    BlockTime: int
    Status: int


class ScannedParticipant(AnswerModel):
    """A member as ScanConversationParticipantList answers it (OnlyUserIds: the ids only)."""

    ConversationShortId: int
    ParticipantUserId: int
    ParticipantUserIdStr: str | None = None
    Role: int | None = None
    NickName: str | None = None
    Level: int | None = None
    Ext: dict[str, str] | None = None
    AvatarUrl: str | None = None
    Operator: int | None = None
    OperatorStr: str | None = None
    CreateTime: int | None = None
    BlockTime: int | None = None
    Status: int | None = None
    Marks: list[str] | None = None


def user_fields(user: UserRef | None, name: str) -> dict[str, Any]:
    """`name` and, for a string-named user, `nameStr` (README section 3)."""
    if user is None:
        return {}
    if user.text:
        return {name: 0, f"{name}Str": user.text}
    return {name: user.number}


def conversation_info(conversation: Conversation) -> ConversationInfo:
    return ConversationInfo(
        ConversationShortId=conversation.short_id,
        ConversationId=str(conversation.short_id),
        AppId=conversation.app_id,
        InboxType=conversation.inbox_type,
        ConversationType=conversation.conversation_type,
        Name=conversation.name,
        AvatarUrl=conversation.avatar_url,
        Description=conversation.description,
        Notice=conversation.notice,
        Ext=dict(conversation.ext),
        **user_fields(conversation.owner, "OwnerUserId"),
        **user_fields(conversation.creator, "CreatorUserId"),
        **user_fields(conversation.other, "OtherUserId"),
        Status=conversation.status,
        CreateTime=conversation.create_time,
        ModifyTime=conversation.modify_time,
        MemberCount=conversation.member_count,
        OnlineCount=ONLINE_COUNT_UNTRACKED,
    )


def participant_info(member: Member) -> ParticipantInfo:
    return ParticipantInfo(
        ConversationShortId=member.short_id,
        ParticipantUserId=member.user.number,
        Role=member.role,
        NickName=member.nick_name,
        Level=member.level,
        Ext=dict(member.ext),
        AvatarUrl="",
        Operator=member.operator.number,
        CreateTime=member.create_time,
        BlockTime=member.block_time,
        Status=0,
    )


def scanned_participant(member: Member, *, only_user_ids: bool) -> ScannedParticipant:
    ids = {
        "ConversationShortId": member.short_id,
        **user_fields(member.user, "ParticipantUserId"),
    }
    if only_user_ids:
        return ScannedParticipant(**ids)
    return ScannedParticipant(
        **ids,
        Role=member.role,
        NickName=member.nick_name,
        Level=member.level,
        Ext=dict(member.ext),
        AvatarUrl="",
        **user_fields(member.operator, "Operator"),
        CreateTime=member.create_time,
        BlockTime=member.block_time,
        Status=0,
        Marks=[],
    )


class EmptyResult(AnswerModel):
    """The Result of an action whose vendor Result is empty: `{}`."""


class ResponseError(AnswerModel):
    CodeN: int | None = Field(default=None, description="Only for codes that have a number.")
    Code: str
    Message: str


class ResponseMetadata(AnswerModel):
    RequestId: str
    Action: str
    Version: str
    Service: str
    Region: str


class ErrorResponseMetadata(ResponseMetadata):
    Error: ResponseError


class ErrorResponse(AnswerModel):
    """Every refusal and failure, whatever its HTTP status: an Error and no Result."""

    ResponseMetadata: ErrorResponseMetadata
