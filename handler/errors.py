"""Every error the API can answer with, and the one table that maps it to the wire.

Request failures are raised as `ApiError` with their vendor code; storage failures arrive as the
domain's exceptions. `describe` turns either into (HTTP status, Code, CodeN, Message); nothing
else in the package decides a status code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from handler.domain import StoreTimeoutError, StoreUnavailableError


class ErrorCode(Enum):
    """Vendor error code -> (HTTP status, CodeN or None), as in the contract's section 5."""

    MissingParameter = (400, 100002)
    InvalidParameter = (400, None)
    InvalidActionOrVersion = (404, 100008)
    MethodNotAllowed = (405, None)
    RequestEntityTooLarge = (413, None)
    MissingAuthenticationToken = (401, 100003)
    MissingSignature = (401, 100005)
    InvalidTimestamp = (400, 100006)
    InvalidAccessKey = (401, 100009)
    SignatureDoesNotMatch = (401, 100010)
    AccessDenied = (403, 100013)
    FlowLimitExceeded = (429, None)
    InternalError = (500, 100014)
    ServiceUnavailableTemp = (503, None)
    InternalServiceTimeout = (504, 100016)

    def __init__(self, http_status: int, code_n: int | None) -> None:
        self.http_status = http_status
        self.code_n = code_n


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
    if isinstance(error, StoreUnavailableError):
        return ApiError(
            ErrorCode.ServiceUnavailableTemp,
            "Storage is throttled or unavailable; retry with the same IdempotentId",
        )
    if isinstance(error, StoreTimeoutError):
        return ApiError(
            ErrorCode.InternalServiceTimeout,
            "Storage did not answer in time; retry with the same IdempotentId",
        )
    return ApiError(ErrorCode.InternalError, INTERNAL_ERROR_MESSAGE)


def missing(message: str) -> ApiError:
    return ApiError(ErrorCode.MissingParameter, message)


def invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.InvalidParameter, message)
