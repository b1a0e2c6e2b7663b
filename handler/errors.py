"""Every error the API can answer with, and the one table that maps it to the wire.

Request failures are raised as `ApiError` with their vendor code; the domain's refusals are
named after their vendor code; storage failures arrive as the domain's exceptions. `describe`
turns any of them into (HTTP status, Code, CodeN, Message); nothing else in the package decides
a status code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from handler.domain.errors import Refusal, StoreTimeoutError, StoreUnavailableError


class ErrorCode(Enum):
    """Vendor error code -> (HTTP status, CodeN or None), as in the contract's section 5."""

    # The vendor's OpenAPI gateway codes.
    MissingParameter = (400, 100002)
    InvalidActionOrVersion = (404, 100008)
    MissingAuthenticationToken = (401, 100003)
    MissingSignature = (401, 100005)
    InvalidTimestamp = (400, 100006)
    InvalidAccessKey = (401, 100009)
    SignatureDoesNotMatch = (401, 100010)
    AccessDenied = (403, 100013)
    InternalError = (500, 100014)
    InternalServiceTimeout = (504, 100016)
    # The vendor's IM service codes (docs 6348/412253).
    JsonParsingError = (400, None)
    InvalidParam = (400, None)
    MethodNotAllowed = (405, None)
    RequestEntityTooLarge = (413, None)
    FlowLimitExceeded = (429, None)
    ServiceUnavailableTemp = (503, None)
    ConversationNotFound = (404, None)
    ConversationShortIdsHasInvalidElem = (400, None)
    SingleConversationNotSupport = (400, None)
    LiveConversationNotSupport = (400, None)
    OnlyOwnerCanOperator = (403, None)
    OwnerShouldBeEqual = (400, None)
    ParticipantNotInConversation = (400, None)
    ConversationParticipantsMoreThanLimit = (400, None)

    def __new__(cls, http_status: int, code_n: int | None) -> ErrorCode:
        # Many codes share (status, CodeN); a value of their own keeps them from becoming aliases.
        member = object.__new__(cls)
        member._value_ = len(cls.__members__)
        member.http_status = http_status
        member.code_n = code_n
        return member

    http_status: int
    code_n: int | None


@dataclass(frozen=True)
class ErrorBody:
    http_status: int
    code: str
    code_n: int | None
    message: str


INTERNAL_ERROR_MESSAGE = "The service hit an internal error; quote the RequestId when reporting it"


class ApiError(Exception):
    """A failure the caller is told about, in the vendor's envelope."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def describe(error: Exception) -> ErrorBody:
    """(HTTP status, Code, CodeN, Message) for any failure; unknown ones are InternalError."""
    api_error = error if isinstance(error, ApiError) else _from_domain(error)
    return ErrorBody(
        http_status=api_error.code.http_status,
        code=api_error.code.name,
        code_n=api_error.code.code_n,
        message=api_error.message,
    )


def _from_domain(error: Exception) -> ApiError:
    if isinstance(error, Refusal):
        # Each refusal is named after its vendor code; one without a code is a bug.
        code = ErrorCode.__members__.get(type(error).__name__)
        if code is not None:
            return ApiError(code, str(error))
    if isinstance(error, StoreUnavailableError):
        return ApiError(
            ErrorCode.ServiceUnavailableTemp,
            "Storage is throttled or unavailable; retrying the same request is safe",
        )
    if isinstance(error, StoreTimeoutError):
        return ApiError(
            ErrorCode.InternalServiceTimeout,
            "Storage did not answer in time; retrying the same request is safe",
        )
    return ApiError(ErrorCode.InternalError, INTERNAL_ERROR_MESSAGE)


def is_expected(error: Exception) -> bool:
    """A refusal the contract names, as opposed to a failure worth a traceback in the log."""
    return isinstance(error, ApiError | Refusal)


def missing(message: str) -> ApiError:
    return ApiError(ErrorCode.MissingParameter, message)


def invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.InvalidParam, message)


def not_json(message: str) -> ApiError:
    return ApiError(ErrorCode.JsonParsingError, message)
