"""What authentication and the rate limiter add to each request.

    .venv/bin/python bench/auth_cost.py                       # embedded moto
    DYNAMODB_ENDPOINT_URL=http://127.0.0.1:8000 .venv/bin/python bench/auth_cost.py

Prints, per limiter decision: DynamoDB requests, the capacity DynamoDB reports
(ReturnConsumedCapacity=TOTAL, added by a botocore hook), and latency percentiles; and the CPU
time of one signature verification. Latency against moto or DynamoDB Local says nothing about
AWS; the request and capacity counts do.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "auth")]

from handler.auth import verify_signature  # noqa: E402
from handler.store import (  # noqa: E402
    ClientSettings,
    DynamoDBRateCounter,
    create_client,
    table_definition,
)

SAMPLES = int(os.environ.get("SAMPLES", "2000"))
# The limiter counts per (access key, action); any action costs the same.
ACTION = "CreateConversation"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


def measure_limiter(endpoint: str | None) -> None:
    client = create_client(
        ClientSettings(
            region="us-east-1",
            endpoint_url=endpoint,
            connect_timeout=2,
            read_timeout=5,
            max_attempts=3,
        )
    )
    table = f"auth-cost-{uuid.uuid4().hex[:8]}"
    client.create_table(**table_definition(table))
    client.get_waiter("table_exists").wait(TableName=table)
    calls: list[dict[str, Any]] = []

    def ask_for_capacity(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def record(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        calls.append(parsed.get("ConsumedCapacity") or {})

    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", ask_for_capacity)
    client.meta.events.register("after-call.dynamodb.UpdateItem", record)
    counter = DynamoDBRateCounter(client, table_name=table)
    # One window the limit never fills, and one already full.
    full = int(time.time())
    counter.try_take("AKLTfull", ACTION, full, 1, full + 61)
    for label, caller, limit in (("admitted", "AKLTopen", SAMPLES), ("refused", "AKLTfull", 1)):
        calls.clear()
        latencies = []
        for _ in range(SAMPLES):
            started = time.perf_counter()
            taken = counter.try_take(caller, ACTION, full, limit, full + 61)
            latencies.append(time.perf_counter() - started)
            assert taken == (label == "admitted")
        # A refused (ConditionalCheckFailed) write reports no capacity, though AWS bills it.
        capacity = {str(call.get("CapacityUnits", "not reported")) for call in calls}
        print(
            f"  {label:9} UpdateItem calls per decision {len(calls) / SAMPLES:.0f}, "
            f"CapacityUnits {sorted(capacity)}, {percentiles(latencies)}"
        )
    client.delete_table(TableName=table)


def measure_signature() -> None:
    from signing_support import SCOPE, known_keys, sdk_signed_request  # noqa: PLC0415

    now = datetime.now(tz=UTC)
    request = sdk_signed_request(signed_at=now)
    body = request.body()
    latencies = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        verify_signature(request, body, known_keys, SCOPE, now)
        latencies.append(time.perf_counter() - started)
    print(f"  signature verification (CPU only): {percentiles(latencies)}")


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL")
    with contextlib.ExitStack() as stack:
        if not endpoint:
            from moto import mock_aws  # noqa: PLC0415

            stack.enter_context(mock_aws())
        print(f"rate limiter against {endpoint or 'moto (in process)'}, {SAMPLES} samples each:")
        measure_limiter(endpoint)
    measure_signature()


if __name__ == "__main__":
    main()
