"""What the service tells operators: JSON logs, EMF metrics and, when switched on, X-Ray traces.

Every metric name is defined here (docs/operations.md lists them). Log lines carry the request id
as `correlation_id` and an error code; a success's EMF line carries the request id, the Action,
the caller and what the action reports (a create: its ConversationShortId and whether it
existed). Never the request body: nothing here is handed the body, and
the AWS libraries that could print it are held at WARNING.

What belongs to one invocation (its metric set, its request id, its log correlation id) lives in
a record made when the invocation starts and reached through a context variable, never in
module or instance state: two invocations running at once in one process (threads of a test, a
runner) each see only their own. Powertools' `Metrics` shares one metric set across all its
instances, so each invocation gets its own `EphemeralMetrics` instead.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from handler.errors import ErrorBody
from handler.settings import Settings

SUCCEEDED_SUFFIX = ".Succeeded"
DYNAMODB_RETRY = "DynamoDBRetry"
ERROR_PREFIX = "Error."
# At DEBUG, botocore logs each request's body (the conversation) and its signed headers
# (the session token); urllib3 and boto3 follow it. A DEBUG log level must not publish them.
QUIET_LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3")

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def error_metric(code: str) -> str:
    return f"{ERROR_PREFIX}{code}"


def success_metric(action: str) -> str:
    return f"{action}{SUCCEEDED_SUFFIX}"


@dataclass
class _Invocation:
    """One invocation's own telemetry state."""

    metrics: EphemeralMetrics
    request_id: str = ""


_current: ContextVar[_Invocation | None] = ContextVar("telemetry_invocation", default=None)


class Telemetry:
    def __init__(self, settings: Settings) -> None:
        self.logger = Logger(service=settings.service_name)
        self._namespace = settings.metrics_namespace
        self._service = settings.service_name
        self._tracing_enabled = settings.tracing_enabled
        for name in QUIET_LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)

    def instrument(self, handler: LambdaHandler) -> LambdaHandler:
        """Give each invocation its own telemetry record, publish its metrics when it ends, and
        trace it when tracing is on."""
        if self._tracing_enabled:
            handler = _traced(handler, self.logger.service)

        @functools.wraps(handler)
        def invocation(event: dict[str, Any], context: Any) -> dict[str, Any]:
            with self._invocation():
                return handler(event, context)

        return invocation

    def start_request(self, request_id: str) -> None:
        # The context-local keys, not set_correlation_id: those are shared by every thread.
        self.logger.thread_safe_append_keys(correlation_id=request_id)
        self._record().request_id = request_id

    def succeeded(self, action: str, *, caller: str | None, audit: Mapping[str, Any]) -> None:
        """Count the answer under its Action, with its audit fields in the same EMF line.

        A success writes that one line and no log line: the Powertools log line cost ~90 us of
        CPU, a third of a create's own overhead. `caller` (an access key id or IAM ARN, never a
        secret) is the audit trail.
        """
        record = self._record()
        record.metrics.add_metric(name=success_metric(action), unit=MetricUnit.Count, value=1)
        record.metrics.add_metadata(key="request_id", value=record.request_id)
        record.metrics.add_metadata(key="action", value=action)
        record.metrics.add_metadata(key="caller", value=caller)
        for key, value in audit.items():
            record.metrics.add_metadata(key=key, value=value)

    def failed(self, body: ErrorBody, *, expected: bool) -> None:
        """Count the error under its code; log the traceback of an unexpected one.

        Called while the failure is being handled, so `logger.exception` finds it.
        """
        metrics = self._record().metrics
        metrics.add_metric(name=error_metric(body.code), unit=MetricUnit.Count, value=1)
        fields = {"code": body.code, "http_status": body.http_status}
        if expected:
            self.logger.info("request refused", extra=fields)
        else:
            self.logger.exception("request failed", extra=fields)

    def dynamodb_retry(self, operation: str) -> None:
        record = _current.get()
        if record is None:
            # A call outside any invocation (none is made today): published on its own.
            with self._invocation() as record:
                record.metrics.add_metric(name=DYNAMODB_RETRY, unit=MetricUnit.Count, value=1)
        else:
            record.metrics.add_metric(name=DYNAMODB_RETRY, unit=MetricUnit.Count, value=1)
        self.logger.info("DynamoDB call retried", extra={"operation": operation})

    @contextmanager
    def _invocation(self) -> Iterator[_Invocation]:
        """A fresh record for the block; its metrics are published, and its log keys dropped,
        however the block ends."""
        record = _Invocation(EphemeralMetrics(namespace=self._namespace, service=self._service))
        token = _current.set(record)
        try:
            yield record
        finally:
            try:
                record.metrics.flush_metrics()
            finally:
                self.logger.thread_safe_clear_keys()
                _current.reset(token)

    def _record(self) -> _Invocation:
        record = _current.get()
        if record is None:
            raise RuntimeError("telemetry used outside an instrumented invocation")
        return record


def _traced(handler: LambdaHandler, service: str) -> LambdaHandler:
    # Imported here: aws_xray_sdk costs cold start, and only a traced function should pay it.
    from aws_lambda_powertools import Tracer  # noqa: PLC0415

    tracer = Tracer(service=service, patch_modules=("botocore",))
    # The response holds the conversation the caller sent; traces keep ids and timings only.
    return tracer.capture_lambda_handler(handler, capture_response=False)
