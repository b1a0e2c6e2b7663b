"""botocore event hooks on a DynamoDB client: count its requests, read their answers, or answer
them in-process. Nothing here changes what the handler sends, except `ask_capacity`, which adds
ReturnConsumedCapacity=INDEXES to each request while the capacity of a path is being measured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import cycle
from typing import Any

from botocore.awsrequest import AWSResponse

from tests.support.faults import RawBody

SERVICE = "dynamodb"
_PARAMS = "bench_api_params"


@dataclass(frozen=True)
class RawAnswer:
    """One HTTP answer as DynamoDB sent it, kept to be replayed without the network."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Call:
    """One API call the client made: what the caller asked, and what came back."""

    operation: str
    params: dict[str, Any]
    parsed: dict[str, Any]
    answer: RawAnswer

    @property
    def refused(self) -> bool:
        return self.answer.status >= 300


class DynamoDBMeter:
    """Watches every request a client sends and every answer it parses, from registration on."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.calls: list[Call] = []
        self.ask_capacity = False
        events = client.meta.events
        events.register(f"provide-client-params.{SERVICE}", self._on_params)
        # before-send fires once per HTTP request, so botocore's own retries are counted too.
        events.register(f"before-send.{SERVICE}", self._on_send)
        events.register(f"after-call.{SERVICE}", self._on_answer)

    def calls_since(self, mark: int) -> list[Call]:
        return self.calls[mark:]

    def _on_params(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> dict[str, Any] | None:
        # A copy: botocore adds its own fields (ClientRequestToken) to `params` after this event.
        context[_PARAMS] = dict(params)
        if self.ask_capacity and "ReturnConsumedCapacity" in model.input_shape.members:
            return {**params, "ReturnConsumedCapacity": "INDEXES"}
        return None

    def _on_send(self, **_: Any) -> None:
        self.requests += 1

    def _on_answer(
        self,
        http_response: AWSResponse,
        parsed: dict[str, Any],
        model: Any,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        answer = RawAnswer(
            status=http_response.status_code,
            headers=dict(http_response.headers),
            body=http_response.content,
        )
        self.calls.append(Call(model.name, context.get(_PARAMS, {}), parsed, answer))


class InProcessDynamoDB:
    """Answers a client's requests with recorded answers, in order and round again, instead of
    sending them: botocore still builds, signs and parses every request, but no byte leaves."""

    def __init__(self, client: Any, answers: Sequence[RawAnswer]) -> None:
        self._events = client.meta.events
        self._answers = cycle(answers)

    def __enter__(self) -> InProcessDynamoDB:
        self._events.register_first(f"before-send.{SERVICE}", self._answer)
        return self

    def __exit__(self, *_: object) -> None:
        self._events.unregister(f"before-send.{SERVICE}", self._answer)

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        answer = next(self._answers)
        return AWSResponse(request.url, answer.status, answer.headers, RawBody(answer.body))


WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)


class WritesHeldBack:
    """Sends a client's reads, but answers its writes with an empty success without sending them,
    so a handler run leaves the table as it was: its calls are recorded, to be sent later."""

    def __init__(self, client: Any) -> None:
        self._events = client.meta.events

    def __enter__(self) -> WritesHeldBack:
        self._events.register_first(f"before-send.{SERVICE}", self._answer)
        return self

    def __exit__(self, *_: object) -> None:
        self._events.unregister(f"before-send.{SERVICE}", self._answer)

    def _answer(self, request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        if operation not in WRITE_OPERATIONS:
            return None
        return AWSResponse(request.url, SUCCESS.status, SUCCESS.headers, RawBody(SUCCESS.body))


SUCCESS = RawAnswer(200, {"content-type": "application/x-amz-json-1.0"}, b"{}")
