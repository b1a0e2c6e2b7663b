"""Faults injected where botocore sends a request, so the store runs unmodified.

A fault answers one HTTP attempt in the engine's place: with an error response (which botocore
parses, and retries or not, as it would the engine's), or with an exception raised where the
HTTP layer would raise it. `commit_then` lets the attempt reach the engine and then loses the
answer. Everything is registered on one client's `before-send` event and works on moto and on a
real endpoint alike.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.hooks import first_non_none_response
from botocore.httpsession import URLLib3Session

_NOWHERE = "https://fault-injected.invalid/"
_ENDPOINT = "http://dynamodb.fault-injected.invalid/"
_HTTP = URLLib3Session(timeout=30)
WRITE_OPERATIONS = ("PutItem", "TransactWriteItems")


class RawBody:
    """The raw body of an HTTP answer botocore did not receive but parses as if it had."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_response(
    status: int, code: str, message: str = "injected fault", **fields: Any
) -> AWSResponse:
    body = json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **fields}
    )
    return AWSResponse(
        url="https://dynamodb.invalid/",
        status_code=status,
        headers={"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"},
        raw=RawBody(body.encode()),
    )


def inject(
    client: Any, operation: str, fault: Callable[[], Any], *, times: int | None = None
) -> list[int]:
    """Answer `operation` with `fault()` (an AWSResponse, or an exception to raise).

    Returns a one-item list counting how often the fault fired; after `times` faults the real
    engine answers again.
    """
    fired = [0]

    def before_send(request: Any, **_: Any) -> Any:
        if times is not None and fired[0] >= times:
            return None
        fired[0] += 1
        return answer_instead(request, fault())

    client.meta.events.register(f"before-send.dynamodb.{operation}", before_send)
    return fired


def answer_instead(request: Any, outcome: AWSResponse | BaseException) -> AWSResponse:
    """From a before-send hook: `outcome` replaces the engine's answer to `request`."""
    if isinstance(outcome, BaseException):
        raise outcome
    # botocore runs every before-send handler, and moto answers from one of them: point the
    # request where moto does not listen, so the fault replaces the call instead of following it.
    # Against a real endpoint the returned response already stops the send.
    request.url = _NOWHERE
    return outcome


@dataclass(frozen=True)
class Fault:
    """What one attempt gets instead of the engine's answer; `act(client, request)`."""

    name: str
    act: Callable[[Any, Any], AWSResponse | BaseException]
    operations: frozenset[str] = frozenset(WRITE_OPERATIONS)


def answer(status: int, code: str) -> Fault:
    return Fault(
        code if status < 500 else f"{status} {code}", lambda *_: error_response(status, code)
    )


def raising(exception: Callable[[], BaseException]) -> Fault:
    return Fault(type(exception()).__name__, lambda *_: exception())


def _transaction_conflict(_client: Any, request: Any) -> AWSResponse:
    # DynamoDB names one reason per item; the first item collides with another transaction.
    items = len(json.loads(request.body)["TransactItems"])
    reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
    reasons += [{"Code": "None"}] * (items - 1)
    return error_response(
        400,
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[TransactionConflict" + ", None" * (items - 1) + "]",
        CancellationReasons=reasons,
    )


THROTTLING = answer(400, "ThrottlingException")
THROUGHPUT_EXCEEDED = answer(400, "ProvisionedThroughputExceededException")
TRANSACTION_IN_PROGRESS = answer(400, "TransactionInProgressException")
INTERNAL_SERVER_ERROR = answer(500, "InternalServerError")
SERVICE_UNAVAILABLE = answer(503, "ServiceUnavailable")
TRANSACTION_CONFLICT = Fault(
    "TransactionConflict", _transaction_conflict, frozenset({"TransactWriteItems"})
)
ENDPOINT_UNREACHABLE = raising(lambda: EndpointConnectionError(endpoint_url=_ENDPOINT))
CONNECTION_CLOSED = raising(lambda: ConnectionClosedError(endpoint_url=_ENDPOINT))
CONNECT_TIMEOUT = raising(lambda: ConnectTimeoutError(endpoint_url=_ENDPOINT))
READ_TIMEOUT = raising(lambda: ReadTimeoutError(endpoint_url=_ENDPOINT))


def commit_then(lost: Fault) -> Fault:
    """The attempt reaches the engine, which writes and answers; the caller sees `lost` instead."""

    def act(client: Any, request: Any) -> AWSResponse | BaseException:
        deliver(client, request)
        return lost.act(client, request)

    return Fault(f"commit, then {lost.name}", act, lost.operations)


def deliver(client: Any, request: Any) -> AWSResponse:
    """Send `request` to the engine behind `client`: moto answers from its generic before-send
    hook when it is active (emitting the generic event reaches no per-operation hook, so not
    ours), and a real endpoint over HTTP."""
    response = first_non_none_response(client.meta.events.emit("before-send", request=request))
    if response is None:
        response = _HTTP.send(request)
    return response  # type: ignore[no-any-return]


Schedule = Callable[[int, str], "Fault | None"]
"""Given the attempt's number (0-based, across the whole injection) and operation: the fault."""


def always(fault: Fault) -> Schedule:
    return lambda _attempt, _operation: fault


def in_order(*faults: Fault | None) -> Schedule:
    """The given faults for the first attempts, the engine's own answers after them."""
    return lambda attempt, _operation: faults[attempt] if attempt < len(faults) else None


def at_random(rate: float, faults: Sequence[Fault], seed: int) -> Schedule:
    """Each attempt faulted with probability `rate`, by a fault drawn uniformly from those that
    apply to its operation. Seeded: the sequence of draws repeats; under threads, which request
    meets which draw does not."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def schedule(_attempt: int, operation: str) -> Fault | None:
        applicable = [fault for fault in faults if operation in fault.operations]
        with lock:
            return rng.choice(applicable) if rng.random() < rate else None

    return schedule


@dataclass
class Injection:
    attempts: int = 0
    fired: Counter[str] = field(default_factory=Counter)

    @property
    def faults(self) -> int:
        return sum(self.fired.values())


@contextlib.contextmanager
def injected(
    client: Any, schedule: Schedule, operations: Sequence[str] = WRITE_OPERATIONS
) -> Iterator[Injection]:
    """Run `schedule` on every attempt of `operations` made through `client` inside the block."""
    injection = Injection()
    lock = threading.Lock()

    def before_send(request: Any, **_: Any) -> Any:
        with lock:
            attempt = injection.attempts
            injection.attempts += 1
        fault = schedule(attempt, _operation(request))
        if fault is None:
            return None
        with lock:
            injection.fired[fault.name] += 1
        return answer_instead(request, fault.act(client, request))

    events = [f"before-send.dynamodb.{operation}" for operation in operations]
    for event in events:
        client.meta.events.register(event, before_send)
    try:
        yield injection
    finally:
        for event in events:
            client.meta.events.unregister(event, before_send)


def _operation(request: Any) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    return str(target.decode() if isinstance(target, bytes) else target).split(".")[-1]
