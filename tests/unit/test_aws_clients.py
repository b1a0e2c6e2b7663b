"""Every AWS client the handler makes backs off as the timeout arithmetic assumes, even when a
response asks botocore to wait longer (`x-amz-retry-after`)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from handler.access_keys import SecretsManagerKeys
from handler.aws_clients import RETRY_AFTER_HEADER, _drop_retry_after_hint, new_client
from handler.domain.errors import StoreUnavailableError
from handler.store import ClientSettings, create_client
from tests.support.clients import hook_every_new_client
from tests.support.faults import error_response

ATTEMPTS = 3
SETTINGS = ClientSettings(
    region="us-east-1",
    endpoint_url=None,
    connect_timeout=1,
    read_timeout=1,
    max_attempts=ATTEMPTS,
)
# What a throttled service asks for: far more than standard mode's throttling backoff.
HINT_MS = "20000"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits botocore makes between attempts, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", recorded.append)
    return recorded


@pytest.fixture
def throttled_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request of every client made from here on is throttled, with a retry-after hint."""

    def throttle(**_: object) -> object:
        response = error_response(400, "ThrottlingException", "Rate exceeded")
        response.headers[RETRY_AFTER_HEADER] = HINT_MS
        return response

    hook_every_new_client(monkeypatch, "before-send", throttle)


def _standard_throttling_backoff_caps() -> list[float]:
    # Standard mode waits rand(0, 1) x 1 s x 2^(retry - 1) after a throttling error.
    return [float(2**retry) for retry in range(ATTEMPTS - 1)]


def assert_each_wait_within_standard_backoff(sleeps: list[float]) -> None:
    assert len(sleeps) == ATTEMPTS - 1
    assert all(
        0 <= slept <= cap
        for slept, cap in zip(sleeps, _standard_throttling_backoff_caps(), strict=True)
    )


@pytest.mark.usefixtures("throttled_with_a_hint")
def test_the_dynamodb_client_ignores_the_hint(sleeps: list[float]) -> None:
    # Given the store's client, and DynamoDB throttling every attempt with a 20 s hint
    client = create_client(SETTINGS)
    # When a call exhausts its attempts
    with pytest.raises(ClientError, match="ThrottlingException"):
        client.get_item(TableName="t", Key={"PK": {"S": "k"}})
    # Then each wait stayed within standard mode's own throttling backoff
    assert_each_wait_within_standard_backoff(sleeps)


@pytest.mark.usefixtures("throttled_with_a_hint")
def test_the_secrets_manager_client_ignores_the_hint(sleeps: list[float]) -> None:
    # Given the key source's client, and Secrets Manager throttling every attempt with a hint
    keys = SecretsManagerKeys("im/keys", max_age_seconds=300, client_settings=SETTINGS)
    # When a key is looked up, Then it fails as unavailable after its attempts
    with pytest.raises(StoreUnavailableError):
        keys("AKLTone")
    # And each wait stayed within standard mode's own throttling backoff
    assert_each_wait_within_standard_backoff(sleeps)


@pytest.mark.usefixtures("throttled_with_a_hint")
def test_without_the_hook_botocore_would_wait_five_seconds_longer(sleeps: list[float]) -> None:
    # Given a client with the same settings but without the hook the handler adds
    client = new_client("dynamodb", SETTINGS)
    client.meta.events.unregister("needs-retry.dynamodb", _drop_retry_after_hint)
    # When a call exhausts its attempts
    with pytest.raises(ClientError, match="ThrottlingException"):
        client.get_item(TableName="t", Key={"PK": {"S": "k"}})
    # Then botocore honoured the hint up to 5 s beyond its own backoff: the hook is what bounds it
    assert len(sleeps) == ATTEMPTS - 1
    assert all(
        5 <= slept <= cap + 5
        for slept, cap in zip(sleeps, _standard_throttling_backoff_caps(), strict=True)
    )
