"""The one error table: every failure becomes (HTTP status, Code, CodeN, Message) as specified."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from handler.domain import errors as domain_errors
from handler.domain.errors import (
    Refusal,
    ShortIdExhaustedError,
    StoreTimeoutError,
    StoreUnavailableError,
)
from handler.errors import INTERNAL_ERROR_MESSAGE, ApiError, ErrorBody, ErrorCode, describe
from tests.support.contract import CONTRACT_ERRORS

LEAKS = ("arn:aws:dynamodb", "123456789012", "AKIAIOSFODNN7EXAMPLE", "Traceback")
INTERNAL_DETAILS = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/conversations "
    "AKIAIOSFODNN7EXAMPLE Traceback (most recent call last)"
)


def test_the_error_codes_are_exactly_the_contract_table() -> None:
    # Given the error codes the service knows
    # When they are listed with their status and CodeN
    known = {code.name: (code.http_status, code.code_n) for code in ErrorCode}

    # Then they are the contract's table, no more and no less
    assert known == CONTRACT_ERRORS


@pytest.mark.parametrize(("name", "expected"), CONTRACT_ERRORS.items())
def test_an_api_error_is_described_by_its_code(name: str, expected: tuple[int, int | None]) -> None:
    # Given an ApiError with a code from the table and a message
    error = ApiError(ErrorCode[name], "what went wrong")

    # When it is described
    body = describe(error)

    # Then status and CodeN come from the table and the message is passed through
    http_status, code_n = expected
    assert body == ErrorBody(
        http_status=http_status, code=name, code_n=code_n, message="what went wrong"
    )


REFUSALS = [
    value
    for value in vars(domain_errors).values()
    if isinstance(value, type) and issubclass(value, Refusal) and value is not Refusal
]


def test_every_domain_refusal_has_its_namesake_code_in_the_contract() -> None:
    # Given the refusals the domain raises
    names = {refusal.__name__ for refusal in REFUSALS}

    # Then each is named exactly like a service code of the contract's table, and every
    # service code without CodeN after the request-level ones has its refusal
    assert names <= set(CONTRACT_ERRORS)
    assert names == {
        "ConversationNotFound",
        "SingleConversationNotSupport",
        "LiveConversationNotSupport",
        "OnlyOwnerCanOperator",
        "OwnerShouldBeEqual",
        "ParticipantNotInConversation",
        "ConversationParticipantsMoreThanLimit",
    }


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda refusal: refusal.__name__)
def test_a_domain_refusal_is_described_by_its_code_with_its_message(
    refusal: type[Refusal],
) -> None:
    # Given a refusal the domain raised, with its message for the caller
    error = refusal("Conversation 42 does not exist")

    # When it is described
    body = describe(error)

    # Then the status and CodeN are its code's row of the table, the message passes through
    status, code_n = CONTRACT_ERRORS[refusal.__name__]
    assert body == ErrorBody(
        http_status=status,
        code=refusal.__name__,
        code_n=code_n,
        message="Conversation 42 does not exist",
    )


def test_storage_unavailable_is_a_503_service_unavailable_temp() -> None:
    # Given storage that stayed throttled or unreachable through the retries
    error = StoreUnavailableError("ThrottlingException " + INTERNAL_DETAILS)

    # When it is described
    body = describe(error)

    # Then it is a 503 without a CodeN, telling the caller to retry, not what AWS said
    assert (body.http_status, body.code, body.code_n) == (503, "ServiceUnavailableTemp", None)
    assert "retry" in body.message
    assert "Throttling" not in body.message
    assert_leaks_nothing(body.message)


def test_storage_timeout_is_a_504_internal_service_timeout() -> None:
    # Given storage that did not answer in time through the retries
    error = StoreTimeoutError("ReadTimeoutError " + INTERNAL_DETAILS)

    # When it is described
    body = describe(error)

    # Then it is a 504 with CodeN 100016, telling the caller to retry
    assert (body.http_status, body.code, body.code_n) == (504, "InternalServiceTimeout", 100016)
    assert "retry" in body.message
    assert "ReadTimeout" not in body.message
    assert_leaks_nothing(body.message)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError(INTERNAL_DETAILS),
        KeyError(INTERNAL_DETAILS),
        ValueError(INTERNAL_DETAILS),
        ShortIdExhaustedError(INTERNAL_DETAILS),
        ClientError(
            {"Error": {"Code": "ValidationException", "Message": INTERNAL_DETAILS}},
            "TransactWriteItems",
        ),
    ],
    ids=["runtime", "key", "value", "short-id-exhausted", "botocore-client-error"],
)
def test_any_other_failure_is_an_internal_error_that_leaks_nothing(error: Exception) -> None:
    # Given a failure nobody planned for, whose text holds internals
    # When it is described
    body = describe(error)

    # Then it is a 500 InternalError with CodeN 100014 and a fixed message
    assert (body.http_status, body.code, body.code_n) == (500, "InternalError", 100014)
    assert body.message == INTERNAL_ERROR_MESSAGE
    assert_leaks_nothing(body.message)
    assert type(error).__name__ not in body.message


def assert_leaks_nothing(message: str) -> None:
    for leak in LEAKS:
        assert leak not in message
