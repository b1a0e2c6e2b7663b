"""Storage faults, injected at the botocore layer, against moto and Amazon DynamoDB Local.

The handler runs with a client built exactly as handler.app builds it, with handler.settings'
defaults (timeouts, attempts, write budget), over a fresh table. Faults replace single HTTP
attempts (tests/support/faults.py); the store is not touched. Backoff sleeps are recorded instead
of slept, so a run's length does not depend on the jitter drawn.
"""

from __future__ import annotations

import copy
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import botocore.endpoint
import pytest
from moto import mock_aws

from handler import app
from handler.domain.ids import ID_RANDOM_BITS, Entropy
from handler.settings import Settings, load_settings
from handler.store import ClientSettings, ConflictRetry, DynamoDBConversationStore, create_client
from tests.support.audit import audit
from tests.support.backends import BACKENDS, Response, Service, new_service
from tests.support.faults import (
    CONNECT_TIMEOUT,
    CONNECTION_CLOSED,
    ENDPOINT_UNREACHABLE,
    INTERNAL_SERVER_ERROR,
    READ_TIMEOUT,
    SERVICE_UNAVAILABLE,
    THROTTLING,
    THROUGHPUT_EXCEEDED,
    TRANSACTION_CONFLICT,
    TRANSACTION_IN_PROGRESS,
    WRITE_OPERATIONS,
    Fault,
    Injection,
    always,
    at_random,
    commit_then,
    in_order,
    injected,
)

DEFAULTS: Settings = load_settings({"TABLE_NAME": "defaults-only", "AUTH_MODE": "none"})
ATTEMPTS = DEFAULTS.dynamodb_max_attempts

SINGLE_APP, IDEMPOTENT_APP, GROUP_APP = 10, 20, 30
GROUP = {"AppId": GROUP_APP, "OwnerUserId": 1, "ConversationCoreInfo": {"ConversationType": 2}}
SINGLE = {
    "AppId": SINGLE_APP,
    "OwnerUserId": 1,
    "OtherUserId": 2,
    "ConversationCoreInfo": {"ConversationType": 1},
}
IDEMPOTENT_GROUP = {**GROUP, "AppId": IDEMPOTENT_APP, "IdempotentId": "order-1"}
SINGLE_WITH_IDEMPOTENT_ID = {**SINGLE, "IdempotentId": "pair-1"}
# Every create is one TransactWriteItems: the conversation with its members (a group's owner, a
# single chat's two users) and its uniqueness records.
BODIES = {"group": GROUP, "single-chat": SINGLE}

# Retried by botocore's standard mode; the first three count as throttling there (1 s backoff
# base instead of DynamoDB's 25 ms).
THROTTLING_FAULTS = [THROTTLING, THROUGHPUT_EXCEEDED, TRANSACTION_IN_PROGRESS]
TRANSIENT_FAULTS = [
    INTERNAL_SERVER_ERROR,
    SERVICE_UNAVAILABLE,
    ENDPOINT_UNREACHABLE,
    CONNECTION_CLOSED,
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
]
TIMEOUT_FAULTS = [CONNECT_TIMEOUT, READ_TIMEOUT]
ALL_FAULTS = [
    *THROTTLING_FAULTS,
    *TRANSIENT_FAULTS,
    TRANSACTION_CONFLICT,
    commit_then(READ_TIMEOUT),
    commit_then(INTERNAL_SERVER_ERROR),
]


def fault_id(fault: Fault) -> str:
    return fault.name.replace(" ", "-")


class RecordingTime:
    """botocore.endpoint's `time`, recording each retry backoff instead of sleeping it."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@dataclass
class Rig:
    backend: str
    service: Service
    botocore_sleeps: list[float]
    store_sleeps: list[float]

    @property
    def client(self) -> Any:
        return self.service.client

    def create(self, body: dict[str, Any]) -> Response:
        return self.service.create(copy.deepcopy(body))


def production_client(endpoint_url: str | None) -> Any:
    return create_client(
        ClientSettings(
            region="us-east-1",
            endpoint_url=endpoint_url,
            connect_timeout=DEFAULTS.dynamodb_connect_timeout,
            read_timeout=DEFAULTS.dynamodb_read_timeout,
            max_attempts=DEFAULTS.dynamodb_max_attempts,
        )
    )


@pytest.fixture(params=BACKENDS)
def rig(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    def build(endpoint_url: str | None) -> Rig:
        store_sleeps: list[float] = []
        service = new_service(
            production_client(endpoint_url),
            monkeypatch,
            write_budget_seconds=DEFAULTS.write_budget_seconds,
            sleep=store_sleeps.append,
        )
        # Only after the table exists: from here on every botocore backoff is the handler's.
        recording = RecordingTime()
        monkeypatch.setattr(botocore.endpoint, "time", recording)
        return Rig(request.param, service, recording.sleeps, store_sleeps)

    if request.param == "moto":
        with mock_aws():
            yield build(None)
    else:
        yield build(request.getfixturevalue("ddblocal_endpoint"))


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize("fault", THROTTLING_FAULTS + TRANSIENT_FAULTS, ids=fault_id)
def test_a_retriable_fault_is_retried_with_backoff_until_the_engine_answers(
    rig: Rig, fault: Fault, body: dict[str, Any]
) -> None:
    # Given the fault on every attempt but the last one botocore makes
    retries = ATTEMPTS - 1
    with injected(rig.client, in_order(*[fault] * retries)) as injection:
        # When a conversation is created
        response = rig.create(body)

    # Then botocore retried after a jittered exponential backoff, and the write went through
    assert (response.status, response.result["Exist"]) == (200, False)
    assert (injection.fired[fault.name], injection.attempts) == (retries, ATTEMPTS)
    base = 1.0 if fault in THROTTLING_FAULTS else 0.025
    assert len(rig.botocore_sleeps) == retries
    assert all(0 < delay <= base * 2**i for i, delay in enumerate(rig.botocore_sleeps))
    assert_only_stored(rig, [response])


def test_a_transaction_conflict_is_retried_by_the_store_with_backoff(rig: Rig) -> None:
    # Given a transaction conflict on the first two attempts (botocore does not retry those)
    with injected(rig.client, in_order(TRANSACTION_CONFLICT, TRANSACTION_CONFLICT)) as injection:
        # When a single chat is created
        response = rig.create(SINGLE)

    # Then the store's own loop wrote it on its third transaction, after jittered backoffs
    retry = ConflictRetry()
    assert (response.status, response.result["Exist"]) == (200, False)
    assert injection.attempts == 3
    assert rig.botocore_sleeps == []
    assert len(rig.store_sleeps) == 2
    assert all(
        0 < delay <= min(retry.max_delay, retry.base_delay * 2**i)
        for i, delay in enumerate(rig.store_sleeps)
    )
    assert_only_stored(rig, [response])


EXHAUSTING = [
    pytest.param(fault, body, id=f"{fault_id(fault)}-{name}")
    for fault in [*THROTTLING_FAULTS, *TRANSIENT_FAULTS, TRANSACTION_CONFLICT]
    for name, body in BODIES.items()
]


@pytest.mark.parametrize("fault, body", EXHAUSTING)
def test_a_fault_that_outlasts_the_retries_is_answered_503_or_504_in_the_envelope(
    rig: Rig, fault: Fault, body: dict[str, Any]
) -> None:
    # Given the fault on every attempt
    with injected(rig.client, always(fault)) as injection:
        # When a conversation is created
        response = rig.create(body)

    # Then every retry was spent, and the caller gets the vendor's error, not an exception
    if fault in TIMEOUT_FAULTS:
        expected = (504, "InternalServiceTimeout", 100016)
    else:
        expected = (503, "ServiceUnavailableTemp", None)
    assert (response.status, response.error["Code"], response.error.get("CodeN")) == expected
    assert_error_envelope(response)
    attempts = ConflictRetry().max_attempts if fault is TRANSACTION_CONFLICT else ATTEMPTS
    assert injection.attempts == attempts
    # And nothing was written
    assert rig.service.items() == []


# What the engine answers botocore's replay of a write whose answer was lost: DynamoDB replays a
# TransactWriteItems with the same ClientRequestToken as a success.
REPLAYS = {
    "group": (GROUP, None),
    "single-chat": (SINGLE, None),
    "idempotent-group": (IDEMPOTENT_GROUP, None),
}


@pytest.mark.parametrize("body, ddblocal_replay", REPLAYS.values(), ids=REPLAYS.keys())
@pytest.mark.parametrize("lost", [READ_TIMEOUT, INTERNAL_SERVER_ERROR], ids=fault_id)
def test_an_answer_lost_after_the_write_is_recovered_inside_botocores_retry(
    rig: Rig, lost: Fault, body: dict[str, Any], ddblocal_replay: str | None
) -> None:
    # Given the first attempt reaches the engine, which writes, and its answer is lost
    replays = record_answers(rig.client)
    with injected(rig.client, in_order(commit_then(lost))) as injection:
        # When a conversation is created
        response = rig.create(body)

    # Then botocore's retry learns the write was its own: Exist false, with the id it wrote
    assert (response.status, response.result["Exist"]) == (200, False)
    assert injection.fired == {f"commit, then {lost.name}": 1}
    assert_only_stored(rig, [response])
    # On the real engine a transaction's replay is answered by its ClientRequestToken; moto has
    # no such memory and the store recognizes its WriteToken in the refused item instead
    if rig.backend == "ddblocal":
        assert replays == [ddblocal_replay]


LOST_THEN_EXHAUSTED = {
    "timeouts-504": (READ_TIMEOUT, 504, "InternalServiceTimeout"),
    "unavailable-503": (SERVICE_UNAVAILABLE, 503, "ServiceUnavailableTemp"),
}
RETRIED_BODIES = {
    "idempotent-group": IDEMPOTENT_GROUP,
    "single-chat-with-idempotent-id": SINGLE_WITH_IDEMPOTENT_ID,
    "single-chat": SINGLE,
}


@pytest.mark.parametrize("body", RETRIED_BODIES.values(), ids=RETRIED_BODIES.keys())
@pytest.mark.parametrize(
    "then, status, code", LOST_THEN_EXHAUSTED.values(), ids=LOST_THEN_EXHAUSTED.keys()
)
def test_a_client_retry_after_a_lost_answer_gets_exist_true_and_the_same_id(
    rig: Rig, then: Fault, status: int, code: str, body: dict[str, Any]
) -> None:
    # Given a write that committed, whose answer and every retry of it were lost
    faults = [commit_then(then)] + [then] * (ATTEMPTS - 1)
    with injected(rig.client, in_order(*faults)):
        lost = rig.create(body)
    assert (lost.status, lost.error["Code"]) == (status, code)

    # When the caller retries the same request
    retried = rig.create(body)

    # Then it gets the conversation that was written, Exist true, and nothing was duplicated
    assert (retried.status, retried.result["Exist"]) == (200, True)
    assert_only_stored(rig, [retried])


RATES = [0.1, 0.3, 0.5]
KEYS_PER_KIND = 25
REQUESTS_PER_KEY = 8


@pytest.mark.parametrize("rate", RATES, ids=lambda rate: f"{rate:.0%}")
def test_random_faults_leave_no_duplicate_and_no_orphan(rig: Rig, rate: float) -> None:
    # Given every fault, after-commit ones included, on a share `rate` of all write attempts
    workload = random_fault_workload()
    seed = int(rate * 1000)
    with injected(rig.client, at_random(rate, ALL_FAULTS, seed)) as injection:
        # When each key is requested several times (at once on the real engine; moto is not
        # safe under concurrency, so one after another there)
        answers = run_workload(rig, workload, concurrently=rig.backend == "ddblocal")

    # Then every answer is a success or the vendor's 503/504, never an exception or a 500
    statuses = Counter(response.status for _, response in answers)
    assert set(statuses) <= {200, 503, 504}
    for _, response in answers:
        if response.status != 200:
            assert_error_envelope(response)
            assert response.error["Code"] == (
                "InternalServiceTimeout" if response.status == 504 else "ServiceUnavailableTemp"
            )

    # And per guarded key, all successes name one conversation, created at most once
    ids_by_key = successes_by_key(answers)
    for key, results in ids_by_key.items():
        assert len({result["ConversationShortId"] for result in results}) == 1, key
        assert sum(not result["Exist"] for result in results) <= 1, key

    # And once the faults stop, one more request per key finds (or makes) exactly that one
    final = {key: rig.create(body) for key, body in workload.items() if key != "plain"}
    for key, response in final.items():
        assert response.status == 200
        known = {result["ConversationShortId"] for result in ids_by_key.get(key, [])}
        assert known <= {response.result["ConversationShortId"]}

    # And the table holds one conversation per guarded key, each with its records, no orphan
    table = audit(rig.service.items(), idempotent_app_ids=[IDEMPOTENT_APP])
    assert table.problems == []
    guarded = {response.result["ConversationShortId"] for response in final.values()}
    assert (
        set(table.conversations_of_app(SINGLE_APP))
        | set(table.conversations_of_app(IDEMPOTENT_APP))
        == guarded
    )
    # And every group without IdempotentId that was answered is stored (a lost answer may have
    # stored one more: the contract's advice is to retry with an IdempotentId)
    plain_answered = {
        response.result["ConversationShortId"]
        for key, response in answers
        if key == "plain" and response.status == 200
    }
    assert plain_answered <= set(table.conversations_of_app(GROUP_APP))
    assert len(table.conversations_of_app(GROUP_APP)) <= sum(key == "plain" for key, _ in answers)

    # And the faults really fired, and botocore really retried
    assert injection.faults > 0
    assert rig.botocore_sleeps
    print_fault_run(rig, rate, injection, statuses)


def random_fault_workload() -> dict[str, dict[str, Any]]:
    """Keys guarded by a record (pairs, IdempotentIds), plus groups without one."""
    workload: dict[str, dict[str, Any]] = {}
    for index in range(KEYS_PER_KIND):
        users = {"OwnerUserId": 100 + index, "OtherUserId": 101 + index}
        workload[f"pair-{index}"] = {**SINGLE, **users}
        workload[f"order-{index}"] = {**IDEMPOTENT_GROUP, "IdempotentId": f"order-{index}"}
    workload["plain"] = GROUP
    return workload


def run_workload(
    rig: Rig, workload: dict[str, dict[str, Any]], *, concurrently: bool
) -> list[tuple[str, Response]]:
    rng = random.Random(7)
    answers: list[tuple[str, Response]] = []
    for key, body in workload.items():
        bodies = [
            swap_members(body) if rng.random() < 0.5 else body for _ in range(REQUESTS_PER_KEY)
        ]
        if concurrently:
            with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
                answers.extend((key, response) for response in pool.map(rig.create, bodies))
        else:
            answers.extend((key, rig.create(one)) for one in bodies)
    return answers


def swap_members(body: dict[str, Any]) -> dict[str, Any]:
    if "OtherUserId" not in body:
        return body
    return {**body, "OwnerUserId": body["OtherUserId"], "OtherUserId": body["OwnerUserId"]}


def successes_by_key(answers: list[tuple[str, Response]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for key, response in answers:
        if key != "plain" and response.status == 200:
            found.setdefault(key, []).append(response.result)
    return found


def print_fault_run(rig: Rig, rate: float, injection: Injection, statuses: Counter[int]) -> None:
    print(
        f"\n{rig.backend} at {rate:.0%}: {injection.attempts} attempts, "
        f"{injection.faults} faults {dict(injection.fired)}; answers {dict(statuses)}; "
        f"botocore backoffs {len(rig.botocore_sleeps)}, store backoffs {len(rig.store_sleeps)}"
    )


def test_a_taken_id_is_redrawn_within_the_requests_write_budget(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stored group whose id every later draw repeats (a frozen clock, zero random bits)
    tokens = iter(range(1, 100))
    monkeypatch.setattr(
        app,
        "entropy",
        Entropy(
            now_ms=lambda: 1_764_133_200_000,
            random_bits=lambda bits: 0 if bits == ID_RANDOM_BITS else next(tokens),
        ),
    )
    # (in the single chat's app: conversations are keyed by AppId and id)
    taken = rig.create({**GROUP, "AppId": SINGLE_APP}).result["ConversationShortId"]
    # And a store clock on which every write attempt outlasts the whole write budget
    clock = [0.0]
    monkeypatch.setattr(
        app,
        "store",
        DynamoDBConversationStore(
            rig.client,
            table_name=rig.service.table_name,
            write_budget_seconds=DEFAULTS.write_budget_seconds,
            monotonic=lambda: clock[0],
        ),
    )

    def slow_attempt(**_: Any) -> None:
        clock[0] += DEFAULTS.write_budget_seconds + 1

    rig.client.meta.events.register("before-send.dynamodb", slow_attempt)

    # When a single chat draws the taken id
    response = rig.create(SINGLE)

    # Then the redraw gets no fresh budget: one write, then 503, not one slow write per redraw
    assert (response.status, response.error["Code"]) == (503, "ServiceUnavailableTemp")
    assert rig.service.calls == ["TransactWriteItems", "TransactWriteItems"]
    assert sorted(audit(rig.service.items()).conversations) == [taken]


def record_answers(client: Any) -> list[str | None]:
    """The error code (None for a success) of each write's final answer, as botocore saw it."""
    answers: list[str | None] = []

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        answers.append(parsed.get("Error", {}).get("Code"))

    for operation in WRITE_OPERATIONS:
        client.meta.events.register(f"after-call.dynamodb.{operation}", after_call)
    return answers


def assert_only_stored(rig: Rig, responses: list[Response]) -> None:
    """The table holds exactly the answered conversations, with their members and records."""
    table = audit(rig.service.items(), idempotent_app_ids=[IDEMPOTENT_APP])
    assert table.problems == []
    assert sorted(table.conversations) == sorted(
        {response.result["ConversationShortId"] for response in responses}
    )


def assert_error_envelope(response: Response) -> None:
    metadata = response.payload["ResponseMetadata"]
    assert set(response.payload) == {"ResponseMetadata"}
    assert metadata["RequestId"]
    assert (metadata["Action"], metadata["Version"], metadata["Service"]) == (
        "CreateConversation", "2020-12-01", "rtc",
    )  # fmt: skip
    assert metadata["Error"]["Message"]
    assert "Traceback" not in response.payload["ResponseMetadata"]["Error"]["Message"]
