"""The rate limiter's policy over the DynamoDB counter, on moto: per (caller, action), with the
write and read classes' own limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from handler.api import action_names, find_action_module
from handler.domain.errors import StoreUnavailableError
from handler.errors import ApiError, ErrorCode, describe
from handler.rate_limit import COUNTER_TTL_SECONDS, RateLimiter, RateLimitPolicy
from handler.store import (
    ClientSettings,
    DynamoDBRateCounter,
    create_client,
    rate_counter_key,
    table_definition,
)

TABLE = "rate-limit-test"
NOW = 1_764_133_200.25
CREATE, MODIFY, READ = "CreateConversation", "ModifyConversation", "BatchGetConversations"


def new_client(max_attempts: int = 3):
    return create_client(
        ClientSettings(
            region="us-east-1",
            endpoint_url=None,
            connect_timeout=1,
            read_timeout=1,
            max_attempts=max_attempts,
        )
    )


@pytest.fixture
def client(monkeypatch) -> Iterator:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        client = new_client()
        client.create_table(**table_definition(TABLE))
        yield client


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def count_update_items(client) -> list[dict]:
    calls: list[dict] = []
    client.meta.events.register(
        "before-call.dynamodb.UpdateItem", lambda params, **_: calls.append(params)
    )
    return calls


def limiter(client, limit: int, clock: Clock, read_limit: int | None = None) -> RateLimiter:
    return RateLimiter(
        RateLimitPolicy(write_per_second=limit, read_per_second=read_limit or 2 * limit),
        DynamoDBRateCounter(client, table_name=TABLE),
        clock=clock,
    )


def admitted(
    limiter: RateLimiter, caller: str, attempts: int, action: str = CREATE, kind: str = "write"
) -> int:
    count = 0
    for _ in range(attempts):
        try:
            limiter.admit(caller, action, kind)
        except ApiError as error:
            assert error.code is ErrorCode.FlowLimitExceeded
        else:
            count += 1
    return count


def test_a_caller_gets_the_limit_in_each_second_and_no_more(client):
    # Given a limit of 3 per second and a clock inside one second
    clock = Clock(NOW)
    rate = limiter(client, 3, clock)
    # When a caller sends 5 requests in that second, Then 3 are admitted
    assert admitted(rate, "AK1", 5) == 3
    # And the refusal is FlowLimitExceeded, HTTP 429
    with pytest.raises(ApiError) as refused:
        rate.admit("AK1", CREATE, "write")
    assert describe(refused.value).http_status == 429
    assert CREATE in refused.value.message
    # When the next second starts, Then the caller has 3 again
    clock.now += 1
    assert admitted(rate, "AK1", 5) == 3


def test_callers_are_counted_separately(client):
    rate = limiter(client, 2, Clock(NOW))
    assert admitted(rate, "AK1", 3) == 2
    assert admitted(rate, "AK2", 3) == 2


def test_each_action_of_a_caller_has_its_own_count(client):
    # Given a write limit of 2, and a caller who used it up on CreateConversation
    rate = limiter(client, 2, Clock(NOW))
    assert admitted(rate, "AK1", 3, CREATE) == 2
    # When the same caller calls another write action in the same second
    # Then that action has its own 2
    assert admitted(rate, "AK1", 3, MODIFY) == 2


def test_read_actions_get_the_read_limit_and_writes_the_write_limit(client):
    # Given a write limit of 2 and a read limit of 5
    rate = limiter(client, 2, Clock(NOW), read_limit=5)
    # When a caller sends 8 of a read action and 8 of a write action in one second
    # Then 5 reads and 2 writes are admitted
    assert admitted(rate, "AK1", 8, READ, "read") == 5
    assert admitted(rate, "AK1", 8, CREATE, "write") == 2


def test_every_action_declares_the_class_its_limit_comes_from():
    # Given the twelve actions, Then the six writes are "write" and the six reads "read"
    classes = {name: find_action_module(name).RATE_LIMIT for name in action_names()}
    writes = {name for name, kind in classes.items() if kind == "write"}
    assert writes == {
        "CreateConversation",
        "ModifyConversation",
        "DestroyConversation",
        "BatchAddConversationParticipant",
        "BatchDeleteConversationParticipant",
        "BatchModifyConversationParticipant",
    }
    assert set(classes.values()) == {"write", "read"}
    assert len(classes) == 12


def test_instances_share_one_count_through_the_table(client):
    # Given two function instances, each with its own client and limiter
    clock = Clock(NOW)
    first, second = limiter(client, 3, clock), limiter(new_client(), 3, clock)
    # When the first admits 2 requests, Then the second admits only 1 more in that second
    assert admitted(first, "AK1", 2) == 2
    assert admitted(second, "AK1", 3) == 1


def test_the_counter_item_holds_the_count_and_expires_after_its_window(client):
    # Given a limit of 3 and 5 requests in one second
    admitted(limiter(client, 3, Clock(NOW)), "AK1", 5)
    # Then one item counts them, refused requests not included, with a TTL past the window
    window = int(NOW)
    item = client.get_item(TableName=TABLE, Key=rate_counter_key("AK1", CREATE, window))
    assert item["Item"]["RequestCount"] == {"N": "3"}
    assert item["Item"]["ExpiresAt"] == {"N": str(window + 1 + COUNTER_TTL_SECONDS)}


def test_each_request_costs_one_update_until_refused_then_none_in_that_second(client):
    # Given a limit of 3 and a count of UpdateItem calls
    calls = count_update_items(client)
    clock = Clock(NOW)
    rate = limiter(client, 3, clock)
    # When 10 requests arrive in one second
    admitted(rate, "AK1", 10)
    # Then 3 admitted + 1 refused took storage calls; the rest were refused from memory
    assert len(calls) == 4
    # And in the next second, storage is asked again
    clock.now += 1
    admitted(rate, "AK1", 1)
    assert len(calls) == 5


def test_storage_throttling_is_service_unavailable_not_a_free_pass(client):
    # Given DynamoDB throttling every UpdateItem (injected at the botocore layer)
    throttled = new_client(max_attempts=1)

    def throttle(**_):
        response = AWSResponse("https://dynamodb", 400, {}, None)
        parsed = {
            "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return response, parsed

    throttled.meta.events.register("before-call.dynamodb.UpdateItem", throttle)
    rate = limiter(throttled, 3, Clock(NOW))
    # When a request is checked, Then it fails as storage unavailable (503), not admitted
    with pytest.raises(StoreUnavailableError) as failure:
        rate.admit("AK1", CREATE, "write")
    assert describe(failure.value).http_status == 503
