"""The in-process part of the benchmark: our handler, the bare boto3 floor and the Powertools peer,
each creating conversations on its own tables in one DynamoDB Local."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from bench.capacity import capacity_of
from bench.instrument import SUCCESS, Call, DynamoDBMeter, InProcessDynamoDB, RawAnswer
from bench.peer import PowertoolsPeer, idempotency_table_definition
from bench.stats import summary
from bench.workload import PATHS, SEED, Bodies, CreatePath, LambdaContext, api_gateway_event

HANDLER = "handler"
FLOOR = "floor"
PEER = "peer"
CONTENDERS = (HANDLER, FLOOR, PEER)
# How many creates of each path the capacity is read from; the answer does not vary.
ACCOUNTING_CREATES = 5


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float
    requests: int
    calls: list[Call]


@dataclass
class Contender:
    """One way of creating a conversation, and the client whose requests it makes."""

    name: str
    meter: DynamoDBMeter
    client: Any
    prepare: Callable[[CreatePath], Any]
    run: Callable[[CreatePath, Any], None]
    last_answers: dict[str, list[RawAnswer]] = field(default_factory=dict)

    def measure(self, path: CreatePath, prepared: Any) -> Sample:
        requests, mark = self.meter.requests, len(self.meter.calls)
        cpu_started, started = time.process_time(), time.perf_counter()
        self.run(path, prepared)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        calls = self.meter.calls_since(mark)
        return Sample(seconds, cpu, self.meter.requests - requests, calls)


def configure_handler_environment(endpoint: str) -> str:
    """The environment handler.app validates at import; returns the table it will write to."""
    table = f"bench-conversations-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        DYNAMODB_ENDPOINT_URL=endpoint,
        TABLE_NAME=table,
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        # DynamoDB Local accepts any key; requests are still signed, as in Lambda.
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - a dummy for DynamoDB Local
        # The create path alone; docs/auth.md measures what signature auth adds.
        AUTH_MODE="none",
    )
    return table


class WarmBench:
    def __init__(self, endpoint: str) -> None:
        table = configure_handler_environment(endpoint)
        self.app = importlib.import_module("handler.app")
        self._devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the bench
        # Log lines are still formatted, as in Lambda, but not printed over the report.
        self.app.telemetry.logger.registered_handler.setStream(self._devnull)
        store = importlib.import_module("handler.store")
        client = self.app.store._client
        self.bodies = Bodies()
        peer_client = store.create_client(
            store.ClientSettings(
                region=self.app.settings.aws_region,
                endpoint_url=endpoint,
                connect_timeout=self.app.settings.dynamodb_connect_timeout,
                read_timeout=self.app.settings.dynamodb_read_timeout,
                max_attempts=self.app.settings.dynamodb_max_attempts,
            )
        )
        peer_tables = (f"{table}-peer", f"{table}-peer-idempotency")
        for definition in (
            store.table_definition(table),
            store.table_definition(peer_tables[0]),
            idempotency_table_definition(peer_tables[1]),
        ):
            client.create_table(**definition)
            client.get_waiter("table_exists").wait(TableName=definition["TableName"])
        from aws_lambda_powertools import Logger  # noqa: PLC0415 - after the handler's import

        self.peer = PowertoolsPeer(
            peer_client,
            conversations_table=peer_tables[0],
            idempotency_table=peer_tables[1],
            logger=Logger(
                service="create-conversation-peer",
                logger_handler=logging.StreamHandler(self._devnull),
            ),
        )
        handler_meter = DynamoDBMeter(client)
        self.contenders = {
            HANDLER: Contender(HANDLER, handler_meter, client, self._event, self._run_handler),
            FLOOR: Contender(FLOOR, handler_meter, client, self._floor_call, self._run_floor),
            PEER: Contender(
                PEER, DynamoDBMeter(peer_client), peer_client, self._event, self._run_peer
            ),
        }
        for body in Bodies.seeds():
            self._run_handler(SEED, api_gateway_event(body))
            self._run_peer(SEED, api_gateway_event(body))

    def close(self) -> None:
        self._devnull.close()

    # --- the three contenders -------------------------------------------------------------

    def _event(self, path: CreatePath) -> dict[str, Any]:
        return api_gateway_event(self.bodies.for_path(path))

    def _run_handler(self, path: CreatePath, event: dict[str, Any]) -> None:
        _check_answer(path, self.app.lambda_handler(event, CONTEXT), check_exist=True)

    def _run_peer(self, path: CreatePath, event: dict[str, Any]) -> None:
        # The peer replays its first answer, so it never says Exist: true.
        _check_answer(path, self.peer.lambda_handler(event, CONTEXT), check_exist=False)

    def _floor_call(self, path: CreatePath) -> tuple[str, dict[str, Any]]:
        """The call our handler makes for this request, captured without sending it."""
        meter = self.contenders[HANDLER].meter
        mark = len(meter.calls)
        with InProcessDynamoDB(self.contenders[HANDLER].client, [SUCCESS]):
            self.app.lambda_handler(self._event(path), CONTEXT)
        (call,) = meter.calls_since(mark)
        return call.operation, call.params

    def _run_floor(self, path: CreatePath, prepared: tuple[str, dict[str, Any]]) -> None:
        operation, params = prepared
        send = getattr(self.contenders[FLOOR].client, xform_name(operation))
        try:
            send(**params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if path.creates_new or code not in _REFUSALS:
                raise
        else:
            if not path.creates_new:
                raise AssertionError(f"floor: {operation} for {path.name} was not refused")

    # --- the measurements ------------------------------------------------------------------

    def accounting(self) -> dict[str, Any]:
        """Requests and capacity of each create, by path, for ours and the peer's."""
        results: dict[str, Any] = {}
        for contender in (self.contenders[HANDLER], self.contenders[PEER]):
            contender.meter.ask_capacity = True
            try:
                results[contender.name] = {
                    path.name: _account(
                        [
                            contender.measure(path, contender.prepare(path))
                            for _ in range(ACCOUNTING_CREATES)
                        ]
                    )
                    for path in PATHS
                }
            finally:
                contender.meter.ask_capacity = False
        return results

    def latency(self, iterations: int, warmup: int) -> dict[str, Any]:
        """Wall time of each create. Paths and contenders take turns, round after round, so
        drift in the machine's load or DynamoDB Local's JIT reaches them all alike."""
        samples = self._rounds(iterations, warmup, in_process=False)
        for path in PATHS:
            for name, taken in samples[path.name].items():
                self.contenders[name].last_answers[path.name] = [
                    call.answer for call in taken[-1].calls
                ]
        return {path.name: _latency_summary(samples[path.name]) for path in PATHS}

    def cpu(self, iterations: int, warmup: int) -> dict[str, Any]:
        """CPU time of each create, DynamoDB's answers from the latency run replayed in-process."""
        samples = self._rounds(iterations, warmup, in_process=True)
        results: dict[str, Any] = {}
        for path in PATHS:
            results[path.name] = {}
            for name, taken in samples[path.name].items():
                cpu_us = [sample.cpu_seconds * 1e6 for sample in taken]
                results[path.name][name] = {
                    "cpu_us": summary(cpu_us, 1),
                    "wall_us": summary([sample.seconds * 1e6 for sample in taken], 1),
                    "mean_cpu_us": round(sum(cpu_us) / len(cpu_us), 1),
                }
        return results

    def _rounds(
        self, iterations: int, warmup: int, *, in_process: bool
    ) -> dict[str, dict[str, list[Sample]]]:
        samples: dict[str, dict[str, list[Sample]]] = {
            path.name: {name: [] for name in CONTENDERS} for path in PATHS
        }
        for round_number in range(warmup + iterations):
            turn = round_number % len(CONTENDERS)
            for path in PATHS:
                for name in CONTENDERS[turn:] + CONTENDERS[:turn]:
                    contender = self.contenders[name]
                    prepared = contender.prepare(path)
                    with contextlib.ExitStack() as stack:
                        if in_process:
                            answers = contender.last_answers[path.name]
                            stack.enter_context(InProcessDynamoDB(contender.client, answers))
                        sample = contender.measure(path, prepared)
                    if round_number >= warmup:
                        samples[path.name][name].append(sample)
        return samples


CONTEXT = LambdaContext()
_REFUSALS = {"TransactionCanceledException", "ConditionalCheckFailedException"}


def _check_answer(path: CreatePath, response: dict[str, Any], *, check_exist: bool) -> None:
    """A benchmark that timed wrong answers would measure nothing: stop at the first one."""
    if response["statusCode"] != 200:
        raise AssertionError(f"{path.name}: HTTP {response['statusCode']}: {response['body']}")
    if check_exist:
        exist = json.loads(response["body"])["Result"]["Exist"]
        if exist == path.creates_new:
            raise AssertionError(f"{path.name}: answered Exist={exist}")


def _account(samples: list[Sample]) -> dict[str, Any]:
    uses = [capacity_of(sample.calls) for sample in samples]
    sources = sorted(set().union(*(use.sources for use in uses)))
    return {
        "requests": max(sample.requests for sample in samples),
        "operations": [call.operation for call in samples[-1].calls],
        "refused": [call.refused for call in samples[-1].calls],
        "write_units": max(use.write_units for use in uses),
        "read_units": max(use.read_units for use in uses),
        "capacity_source": "+".join(sources),
        "local_reported_units": max(use.local_reported_units for use in uses),
        "local_disagrees_on": sorted(set().union(*(use.disagreements for use in uses))),
    }


def _latency_summary(samples: dict[str, list[Sample]]) -> dict[str, Any]:
    summaries: dict[str, Any] = {
        name: {
            **summary([sample.seconds * 1000 for sample in taken]),
            "max_requests": max(sample.requests for sample in taken),
        }
        for name, taken in samples.items()
    }
    summaries["ratio_p50"] = round(summaries[HANDLER]["p50"] / summaries[FLOOR]["p50"], 3)
    return summaries
