"""API models: the vendor's request and response shapes, with the vendor's field names.

Every rule of the contract's section 2 lives here. Validation is strict (no coercion), so
"10001", 1.0 and true are not integers, as the vendor's Go SDK types would have it. Strict
strings also refuse lone surrogates ("\\ud800"), which parse from JSON but cannot be stored or
echoed as UTF-8.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from handler.domain import ID_MAX

_SCHEMA_ANNOTATIONS = {"default", "description", "title"}
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
CONVERSATION_TYPES = (1, 2, 100)
SINGLE_CHAT = 1


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


AppIdInt = Annotated[StrictInt, _Between(1, INT32_MAX)]
UserIdInt = Annotated[StrictInt, _Between(1, INT64_MAX)]
OptionalUserIdInt = Annotated[StrictInt, _Between(1, INT64_MAX, absent=0)]
InboxTypeInt = Annotated[StrictInt, _Between(0, INT32_MAX)]
ConversationTypeInt = Annotated[StrictInt, _OneOf(CONVERSATION_TYPES)]
ExtKey = Annotated[StrictStr, Field(min_length=1, max_length=64)]
ExtValue = Annotated[StrictStr, Field(max_length=1024)]


class _VendorModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

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


class ConversationCoreInfo(_VendorModel):
    ConversationType: ConversationTypeInt = Field(
        description="1 single chat, 2 group chat, 100 live group."
    )
    Name: Annotated[StrictStr, Field(max_length=100)] = ""
    AvatarUrl: Annotated[StrictStr, Field(max_length=1024)] = ""
    Description: Annotated[StrictStr, Field(max_length=1000)] = ""
    Notice: Annotated[StrictStr, Field(max_length=1000)] = ""
    Ext: Annotated[dict[ExtKey, ExtValue], Field(max_length=100)] = Field(default_factory=dict)


# The rule that _other_user_fits_the_type checks, as JSON Schema states it (all but "differs
# from OwnerUserId", which JSON Schema cannot say).
_OTHER_USER_RULE: JsonDict = {
    "if": {
        "properties": {
            "ConversationCoreInfo": {"properties": {"ConversationType": {"const": SINGLE_CHAT}}}
        }
    },
    "then": {
        "required": ["OtherUserId"],
        "properties": {"OtherUserId": {"type": "integer", "minimum": 1}},
    },
    "else": {"properties": {"OtherUserId": {"enum": [0, None]}}},
}


class CreateConversationRequest(_VendorModel):
    """Unknown fields are ignored; null means absent."""

    model_config = ConfigDict(json_schema_extra=_OTHER_USER_RULE)

    AppId: AppIdInt
    OwnerUserId: UserIdInt
    OtherUserId: OptionalUserIdInt = Field(
        default=0,
        description="Required for a single chat (ConversationType 1) and different from "
        "OwnerUserId; absent (or 0) for the other types.",
    )
    InboxType: InboxTypeInt = 0
    IdempotentId: Annotated[StrictStr, Field(max_length=128)] = Field(
        default="",
        description="Scoped to (AppId, InboxType): a repeat creates nothing and returns the "
        'conversation it created, with Exist true. "" counts as absent.',
    )
    ConversationCoreInfo: ConversationCoreInfo

    @model_validator(mode="after")
    def _other_user_fits_the_type(self) -> CreateConversationRequest:
        is_single = self.ConversationCoreInfo.ConversationType == SINGLE_CHAT
        if is_single and self.OtherUserId == 0:
            raise PydanticCustomError(
                "required_for_single_chat", "OtherUserId is required for a single chat"
            )
        if is_single and self.OtherUserId == self.OwnerUserId:
            raise PydanticCustomError("rule_broken", "OtherUserId must differ from OwnerUserId")
        if not is_single and self.OtherUserId != 0:
            raise PydanticCustomError(
                "rule_broken",
                "OtherUserId must be absent unless ConversationCoreInfo.ConversationType is 1",
            )
        return self


ShortIdInt = Annotated[
    int, Field(ge=1, le=ID_MAX, description="At most 2^53 - 1: exact in JavaScript clients.")
]


class ConversationInfo(BaseModel):
    ConversationShortId: ShortIdInt
    AppId: int
    InboxType: int
    ConversationType: int
    Name: str
    AvatarUrl: str
    Description: str
    Notice: str
    Ext: dict[str, str]
    OwnerUserId: int
    CreatorUserId: int
    OtherUserId: int | None = Field(
        default=None, description="Present for single chats (ConversationType 1) only."
    )
    Status: int
    CreateTime: int
    ModifyTime: int
    MemberCount: int
    OnlineCount: int


class CreateConversationResult(BaseModel):
    ConversationShortId: ShortIdInt
    Exist: bool
    ConversationInfo: ConversationInfo


class ResponseError(BaseModel):
    CodeN: int | None = Field(default=None, description="Only for codes that have a number.")
    Code: str
    Message: str


class ResponseMetadata(BaseModel):
    RequestId: str
    Action: str
    Version: str
    Service: str
    Region: str


class ErrorResponseMetadata(ResponseMetadata):
    Error: ResponseError


class CreateConversationResponse(BaseModel):
    """HTTP 200: the conversation created, or the one that already existed."""

    ResponseMetadata: ResponseMetadata
    Result: CreateConversationResult


class ErrorResponse(BaseModel):
    """Every refusal and failure, whatever its HTTP status: an Error and no Result."""

    ResponseMetadata: ErrorResponseMetadata
