"""Fire identical requests at the real handler at once, from threads of separate processes.

Each requester process (multiprocessing's forkserver, which preloads third-party libraries only)
imports handler.app after its environment names DynamoDB Local and the table, so it builds its
client exactly as a Lambda container does at cold start. All requester threads of all processes
meet at one barrier before each round, and each round sends every requester's request for one
key.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.session import Session

from tests.support.clients import create_client_with

BARRIER_TIMEOUT_S = 120.0
JOIN_TIMEOUT_S = 600.0
PRELOAD = ["boto3", "pydantic", "aws_lambda_powertools", "handler.api", "handler.store"]


@dataclass(frozen=True)
class Answer:
    """One request and what the handler answered; times are CLOCK_MONOTONIC, shared by processes."""

    key: str
    body: dict[str, Any]
    status: int
    payload: dict[str, Any]
    started: float
    ended: float


@dataclass
class ProcessReport:
    answers: list[Answer] = field(default_factory=list)
    # botocore-level counts: HTTP attempts and answered calls per operation, cancellation reasons
    attempts: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    cancellation_reasons: Counter[str] = field(default_factory=Counter)
    failure: str | None = None


@dataclass
class RunReport:
    answers: list[Answer]
    attempts: Counter[str]
    calls: Counter[str]
    cancellation_reasons: Counter[str]
    seconds: float


# Each requester's rounds: rounds[i] is the (key, body) it sends in round i.
Rounds = list[tuple[str, dict[str, Any]]]


def run(
    environment: dict[str, str], requesters: list[list[Rounds]], *, timeout: float = JOIN_TIMEOUT_S
) -> RunReport:
    """`requesters[p][t]` is the rounds of thread t in process p; every list has the same length."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    barrier = context.Barrier(sum(len(threads) for threads in requesters))
    results = context.Queue()
    processes = [
        context.Process(target=_requester_process, args=(environment, threads, barrier, results))
        for threads in requesters
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    reports: list[ProcessReport] = []
    try:
        # Drain before joining: a process cannot exit while its report sits in the pipe.
        reports = [results.get(timeout=timeout) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    seconds = time.monotonic() - started
    failures = [report.failure for report in reports if report.failure]
    if failures:
        raise AssertionError("a requester process failed:\n" + "\n".join(failures))
    return RunReport(
        answers=[answer for report in reports for answer in report.answers],
        attempts=sum((report.attempts for report in reports), Counter()),
        calls=sum((report.calls for report in reports), Counter()),
        cancellation_reasons=sum((report.cancellation_reasons for report in reports), Counter()),
        seconds=seconds,
    )


def max_in_flight(answers: Iterable[Answer]) -> int:
    """The largest number of these requests the handler was serving at one instant."""
    edges = sorted(
        [(answer.started, 1) for answer in answers] + [(answer.ended, -1) for answer in answers],
        key=lambda edge: (edge[0], edge[1]),
    )
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def _requester_process(
    environment: dict[str, str], threads: list[Rounds], barrier: Any, results: Any
) -> None:
    report = ProcessReport()
    try:
        os.environ.update(environment)
        _count_dynamodb_traffic(report)
        from handler import app  # noqa: PLC0415 - must follow the environment, as at cold start
        from tests.support.events import LambdaContext, http_api_event  # noqa: PLC0415

        lock = threading.Lock()

        def requester(rounds: Rounds) -> None:
            try:
                for key, body in rounds:
                    event = http_api_event(body)
                    barrier.wait(timeout=BARRIER_TIMEOUT_S)
                    started = time.monotonic()
                    raw = app.lambda_handler(event, LambdaContext())  # type: ignore[arg-type]
                    ended = time.monotonic()
                    answer = Answer(
                        key, body, raw["statusCode"], json.loads(raw["body"]), started, ended
                    )
                    with lock:
                        report.answers.append(answer)
            except BaseException:
                barrier.abort()
                with lock:
                    report.failure = report.failure or traceback.format_exc()

        workers = [threading.Thread(target=requester, args=(rounds,)) for rounds in threads]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    except BaseException:
        barrier.abort()
        report.failure = traceback.format_exc()
    results.put(report)


def _count_dynamodb_traffic(report: ProcessReport) -> None:
    """Hook every client this worker process creates, the handler's own included."""
    lock = threading.Lock()

    def attempt(request: Any, **_: Any) -> None:
        operation = request.headers.get("X-Amz-Target", b"").decode().split(".")[-1]
        with lock:
            report.attempts[operation] += 1

    def answered(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        with lock:
            report.calls[model.name] += 1
            for reason in parsed.get("CancellationReasons", []):
                report.cancellation_reasons[str(reason.get("Code"))] += 1

    # A worker process of its own: the patch lives and dies with it.
    Session.create_client = create_client_with(  # type: ignore[method-assign]
        {"before-send.dynamodb": attempt, "after-call.dynamodb": answered}
    )
