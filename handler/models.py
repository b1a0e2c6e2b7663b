r"""API models: the vendor's request and response shapes, with the vendor's field names.

Every rule of the contract's section 2 lives here. Validation is strict (no coercion), so
"10001", 1.0 and true are not integers, as the vendor's Go SDK types would have it. Strict
strings also refuse lone surrogates ("\ud800"), which parse from JSON but cannot be stored or
echoed as UTF-8.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
CONVERSATION_TYPES = (1, 2, 100)
SINGLE_CHAT = 1


def _in_range(low: int, high: int) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise PydanticCustomError(
                "out_of_range", "must be between {low} and {high}", {"low": low, "high": high}
            )
        return value

    return AfterValidator(check)


def _one_of_conversation_types(value: int) -> int:
    if value not in CONVERSATION_TYPES:
        raise PydanticCustomError("not_one_of", "must be one of 1, 2, 100")
    return value


AppIdInt = Annotated[StrictInt, _in_range(1, INT32_MAX)]
UserIdInt = Annotated[StrictInt, _in_range(1, INT64_MAX)]
OptionalUserIdInt = Annotated[StrictInt, _in_range(0, INT64_MAX)]
InboxTypeInt = Annotated[StrictInt, _in_range(0, INT32_MAX)]
ConversationTypeInt = Annotated[StrictInt, AfterValidator(_one_of_conversation_types)]
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


class ConversationCoreInfo(_VendorModel):
    ConversationType: ConversationTypeInt
    Name: Annotated[StrictStr, Field(max_length=100)] = ""
    AvatarUrl: Annotated[StrictStr, Field(max_length=1024)] = ""
    Description: Annotated[StrictStr, Field(max_length=1000)] = ""
    Notice: Annotated[StrictStr, Field(max_length=1000)] = ""
    Ext: Annotated[dict[ExtKey, ExtValue], Field(max_length=100)] = Field(default_factory=dict)


class CreateConversationRequest(_VendorModel):
    AppId: AppIdInt
    OwnerUserId: UserIdInt
    OtherUserId: OptionalUserIdInt = 0
    InboxType: InboxTypeInt = 0
    IdempotentId: Annotated[StrictStr, Field(max_length=128)] = ""
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


class ConversationInfo(BaseModel):
    ConversationShortId: int
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
    ConversationShortId: int
    Exist: bool
    ConversationInfo: ConversationInfo


class ResponseError(BaseModel):
    CodeN: int | None = None
    Code: str
    Message: str


class ResponseMetadata(BaseModel):
    RequestId: str
    Action: str
    Version: str
    Service: str
    Region: str
    Error: ResponseError | None = None


class CreateConversationResponse(BaseModel):
    ResponseMetadata: ResponseMetadata
    Result: CreateConversationResult | None = None
