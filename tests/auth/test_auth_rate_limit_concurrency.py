"""The limiter's counter under truly concurrent writers: needs Amazon DynamoDB Local.

moto serializes nothing, so only a real engine can show that the conditional UpdateItem never
admits past the limit when many instances race. The endpoint is the suite's DynamoDB Local
(the session fixture `ddblocal_endpoint`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from handler.errors import ApiError
from handler.rate_limit import RateLimiter, RateLimitPolicy
from handler.store import (
    ClientSettings,
    DynamoDBRateCounter,
    create_client,
    rate_counter_key,
    table_definition,
)

pytestmark = pytest.mark.ddblocal

LIMIT = 50
INSTANCES = 16
REQUESTS_PER_INSTANCE = 10
WINDOW = 1_764_133_200


@pytest.fixture
def endpoint(ddblocal_endpoint: str) -> str:
    return ddblocal_endpoint


def new_client(endpoint: str):
    return create_client(
        ClientSettings(
            region="us-east-1",
            endpoint_url=endpoint,
            connect_timeout=2,
            read_timeout=5,
            max_attempts=3,
        )
    )


@pytest.fixture
def table(endpoint, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    name = f"rate-{uuid.uuid4().hex[:12]}"
    client = new_client(endpoint)
    client.create_table(**table_definition(name))
    client.get_waiter("table_exists").wait(TableName=name)
    yield name
    client.delete_table(TableName=name)


def race(attempt) -> list[bool]:
    """Run `attempt(instance)` REQUESTS_PER_INSTANCE times in each of INSTANCES threads at once."""
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(INSTANCES)

    def instance(number: int) -> None:
        take = attempt(number)
        start.wait()
        outcomes = [take() for _ in range(REQUESTS_PER_INSTANCE)]
        with lock:
            results.extend(outcomes)

    threads = [threading.Thread(target=instance, args=(n,)) for n in range(INSTANCES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racing_instances_never_count_past_the_limit(endpoint, table):
    # Given 16 instances, each with its own client, all taking from one caller's window
    def attempt(_number: int):
        counter = DynamoDBRateCounter(new_client(endpoint), table_name=table)
        return lambda: counter.try_take(
            "AK1", "CreateConversation", WINDOW, LIMIT, expires_at=WINDOW + 61
        )

    # When they send 160 requests at once
    results = race(attempt)
    # Then exactly the limit was admitted, and the stored count says so
    assert sum(results) == LIMIT
    item = new_client(endpoint).get_item(
        TableName=table,
        Key=rate_counter_key("AK1", "CreateConversation", WINDOW),
        ConsistentRead=True,
    )
    assert item["Item"]["RequestCount"] == {"N": str(LIMIT)}


def test_racing_limiters_admit_exactly_the_limit_in_one_second(endpoint, table):
    # Given 16 limiters (one per instance, each with its own memory) reading one second
    def attempt(_number: int):
        limiter = RateLimiter(
            RateLimitPolicy(write_per_second=LIMIT, read_per_second=LIMIT),
            DynamoDBRateCounter(new_client(endpoint), table_name=table),
            clock=lambda: WINDOW + 0.5,
        )

        def take() -> bool:
            try:
                limiter.admit("AK1", "CreateConversation", "write")
            except ApiError:
                return False
            return True

        return take

    # When they admit 160 requests at once, Then exactly the limit got through
    assert sum(race(attempt)) == LIMIT
