"""The in-process part of the benchmark: our handler against the bare boto3 floor, scenario by
scenario (bench/workload.py), on one table in DynamoDB Local.

The floor of a call is the DynamoDB requests the handler makes for it, sent directly with the
handler's own client: no parsing, validation, domain or envelope. To get those exact requests,
the floor runs the handler on the same body first, untimed, and records its requests; when the
scenario changes state, the writes of that run are answered in-process and not sent (its reads
are sent: they change nothing), so the table is as it was and the recorded writes, guarded by
what was read, succeed when the floor sends them. A request the handler saw refused (an
existing conversation's create) must be refused again when the floor sends it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from bench.capacity import capacity_of
from bench.instrument import Call, DynamoDBMeter, InProcessDynamoDB, RawAnswer, WritesHeldBack
from bench.stats import summary
from bench.workload import SCENARIOS, LambdaContext, Scenario, World, api_gateway_event

HANDLER = "handler"
FLOOR = "floor"
CONTENDERS = (HANDLER, FLOOR)
# How many calls of each scenario the requests and capacity are read from.
ACCOUNTING_CALLS = 3
CONTEXT = LambdaContext()


class WrongAnswerError(AssertionError):
    """A benchmark that timed wrong answers would measure nothing: the run stops."""


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float
    requests: int
    calls: list[Call]


@dataclass
class Contender:
    """One way of making a scenario's call, and what it ran last (replayed for the CPU run)."""

    name: str
    prepare: Callable[[Scenario], Any]
    run: Callable[[Scenario, Any], None]
    last: dict[str, tuple[Any, list[RawAnswer]]] = field(default_factory=dict)


def configure_handler_environment(endpoint: str) -> str:
    """The environment handler.app validates at import; returns the table it will use."""
    table = f"bench-conversations-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        DYNAMODB_ENDPOINT_URL=endpoint,
        TABLE_NAME=table,
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        # DynamoDB Local accepts any key; requests are still signed, as in Lambda.
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - a dummy for DynamoDB Local
        # The actions alone; docs/auth.md measures what signature auth and the limiter add.
        AUTH_MODE="none",
        # DynamoDB Local on a loaded 2-core machine can take over the 1 s read timeout meant for
        # DynamoDB (a 51-item transaction did), and botocore's retry would then be timed too.
        DYNAMODB_READ_TIMEOUT="10",
        DYNAMODB_CONNECT_TIMEOUT="2",
    )
    return table


class WarmBench:
    def __init__(self, endpoint: str, scenarios: tuple[Scenario, ...] = SCENARIOS) -> None:
        self.table = configure_handler_environment(endpoint)
        self.scenarios = scenarios
        self.app = importlib.import_module("handler.app")
        self._devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the bench
        # Log and metric lines are still formatted, as in Lambda, but not printed over the report.
        self.app.telemetry.logger.registered_handler.setStream(self._devnull)
        store = importlib.import_module("handler.store")
        self.client = self.app.store._client
        self.client.create_table(**store.table_definition(self.table))
        self.client.get_waiter("table_exists").wait(TableName=self.table)
        self.meter = DynamoDBMeter(self.client)
        self.contenders = {
            HANDLER: Contender(HANDLER, self._handler_event, self._run_handler),
            FLOOR: Contender(FLOOR, self._floor_calls, self._run_floor),
        }
        with contextlib.redirect_stdout(self._devnull):  # EMF lines of the set-up calls
            self.world = World(self.call)

    def close(self) -> None:
        self._devnull.close()

    # --- calls ------------------------------------------------------------------------------

    def call(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """One untimed handler call that sets the stage; its Result."""
        response = self.app.lambda_handler(api_gateway_event(action, body), CONTEXT)
        if response["statusCode"] != 200:
            raise WrongAnswerError(f"set-up {action}: HTTP {response['statusCode']}: {response}")
        result: dict[str, Any] = json.loads(response["body"])["Result"]
        return result

    def _handler_event(self, scenario: Scenario) -> dict[str, Any]:
        with contextlib.redirect_stdout(self._devnull):  # EMF lines of the set-up calls
            return api_gateway_event(scenario.action, scenario.body(self.world))

    def _run_handler(self, scenario: Scenario, event: dict[str, Any]) -> None:
        check_answer(scenario, self.app.lambda_handler(event, CONTEXT))

    def _floor_calls(self, scenario: Scenario) -> list[Call]:
        """The requests the handler makes for this scenario's next body, recorded untimed."""
        event = self._handler_event(scenario)
        mark = len(self.meter.calls)
        with contextlib.ExitStack() as stack:
            if scenario.mutates:
                stack.enter_context(WritesHeldBack(self.client))
            stack.enter_context(contextlib.redirect_stdout(self._devnull))
            self._run_handler(scenario, event)
        return self.meter.calls_since(mark)

    def _run_floor(self, scenario: Scenario, calls: list[Call]) -> None:
        for call in calls:
            send = getattr(self.client, xform_name(call.operation))
            try:
                send(**call.params)
            except ClientError as error:
                if not call.refused:
                    raise WrongAnswerError(f"floor {scenario.name}: {error}") from error
            else:
                if call.refused:
                    raise WrongAnswerError(f"floor {scenario.name}: {call.operation} not refused")

    def _measure(self, contender: Contender, scenario: Scenario, prepared: Any) -> Sample:
        requests, mark = self.meter.requests, len(self.meter.calls)
        with contextlib.redirect_stdout(self._devnull):  # the EMF line, formatted and written
            cpu_started, started = time.process_time(), time.perf_counter()
            contender.run(scenario, prepared)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        return Sample(seconds, cpu, self.meter.requests - requests, self.meter.calls_since(mark))

    # --- the measurements ---------------------------------------------------------------------

    def accounting(self) -> dict[str, Any]:
        """Requests and capacity of the handler's calls, by scenario."""
        handler = self.contenders[HANDLER]
        self.meter.ask_capacity = True
        try:
            return {
                scenario.name: account(
                    [
                        self._measure(handler, scenario, handler.prepare(scenario))
                        for _ in range(ACCOUNTING_CALLS)
                    ]
                )
                for scenario in self.scenarios
            }
        finally:
            self.meter.ask_capacity = False

    def latency(self, iterations: int, warmup: int) -> dict[str, Any]:
        """Wall time of each call. Scenarios and contenders take turns, round after round, so
        drift in the machine's load or DynamoDB Local's JIT reaches them all alike."""
        samples = self._rounds(iterations, warmup, replay=False)
        return {s.name: latency_summary(samples[s.name]) for s in self.scenarios}

    def cpu(self, iterations: int, warmup: int) -> dict[str, Any]:
        """CPU time of each call, the last latency round's DynamoDB answers replayed in-process."""
        samples = self._rounds(iterations, warmup, replay=True)
        results: dict[str, Any] = {}
        for scenario in self.scenarios:
            results[scenario.name] = {}
            for name, taken in samples[scenario.name].items():
                cpu_us = [sample.cpu_seconds * 1e6 for sample in taken]
                results[scenario.name][name] = {
                    "cpu_us": summary(cpu_us, 1),
                    "wall_us": summary([sample.seconds * 1e6 for sample in taken], 1),
                }
        return results

    def _rounds(
        self, iterations: int, warmup: int, *, replay: bool
    ) -> dict[str, dict[str, list[Sample]]]:
        samples: dict[str, dict[str, list[Sample]]] = {
            scenario.name: {name: [] for name in CONTENDERS} for scenario in self.scenarios
        }
        for round_number in range(warmup + iterations):
            turn = round_number % len(CONTENDERS)
            for scenario in self.scenarios:
                for name in CONTENDERS[turn:] + CONTENDERS[:turn]:
                    contender = self.contenders[name]
                    with contextlib.ExitStack() as stack:
                        if replay:
                            prepared, answers = contender.last[scenario.name]
                            stack.enter_context(InProcessDynamoDB(self.client, answers))
                        else:
                            prepared = contender.prepare(scenario)
                        sample = self._measure(contender, scenario, prepared)
                    if not replay:
                        answers = [call.answer for call in sample.calls]
                        contender.last[scenario.name] = (prepared, answers)
                    if round_number >= warmup:
                        samples[scenario.name][name].append(sample)
        return samples


def check_answer(scenario: Scenario, response: dict[str, Any]) -> None:
    """Stop at the first call that did not take its scenario's path."""
    if response["statusCode"] != 200:
        raise WrongAnswerError(
            f"{scenario.name}: HTTP {response['statusCode']}: {response['body']}"
        )
    wrong = scenario.check(json.loads(response["body"])["Result"])
    if wrong is not None:
        raise WrongAnswerError(f"{scenario.name}: {wrong}")


def account(samples: list[Sample]) -> dict[str, Any]:
    uses = [capacity_of(sample.calls) for sample in samples]
    sources = sorted(set().union(*(use.sources for use in uses)))
    return {
        # API calls; botocore's own retries of one call (throttling, a timeout) are the
        # `http_requests` beyond them, which the contract's limit leaves aside.
        "requests": max(len(sample.calls) for sample in samples),
        "http_requests": max(sample.requests for sample in samples),
        "operations": [call.operation for call in samples[-1].calls],
        "refused": [call.refused for call in samples[-1].calls],
        "write_units": max(use.write_units for use in uses),
        "index_write_units": max(use.index_write_units for use in uses),
        "read_units": max(use.read_units for use in uses),
        "capacity_source": "+".join(sources),
        "local_reported_units": max(use.local_reported_units for use in uses),
        "local_disagrees_on": sorted(set().union(*(use.disagreements for use in uses))),
    }


def latency_summary(samples: dict[str, list[Sample]]) -> dict[str, Any]:
    summaries: dict[str, Any] = {
        name: {
            **summary([sample.seconds * 1000 for sample in taken]),
            "max_requests": max(len(sample.calls) for sample in taken),
            "max_http_requests": max(sample.requests for sample in taken),
        }
        for name, taken in samples.items()
    }
    summaries["ratio_p50"] = round(summaries[HANDLER]["p50"] / summaries[FLOOR]["p50"], 3)
    return summaries
