"""What the service tells operators: JSON logs, EMF metrics and, when switched on, X-Ray traces.

Every metric name is defined here (docs/operations.md lists them). Log lines carry the request id
as `correlation_id` and an error code; a success's EMF line carries the request id, the Action,
the caller and what the action reports (a create: its ConversationShortId and whether it
existed). Never the request body: nothing here is handed the body, and
the AWS libraries that could print it are held at WARNING.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

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


class Telemetry:
    def __init__(self, settings: Settings) -> None:
        self.logger = Logger(service=settings.service_name)
        self.metrics = Metrics(namespace=settings.metrics_namespace, service=settings.service_name)
        self._tracing_enabled = settings.tracing_enabled
        self._request_id = ""
        for name in QUIET_LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)

    def instrument(self, handler: LambdaHandler) -> LambdaHandler:
        """Publish each invocation's metrics when it ends, and trace it when tracing is on."""
        if self._tracing_enabled:
            handler = _traced(handler, self.logger.service)
        return self.metrics.log_metrics(handler)

    def start_request(self, request_id: str) -> None:
        self.logger.set_correlation_id(request_id)
        self._request_id = request_id

    def succeeded(self, action: str, *, caller: str | None, audit: Mapping[str, Any]) -> None:
        """Count the answer under its Action, with its audit fields in the same EMF line.

        A success writes that one line and no log line: the Powertools log line cost ~90 us of
        CPU, a third of a create's own overhead. `caller` (an access key id or IAM ARN, never a
        secret) is the audit trail.
        """
        self.metrics.add_metric(name=success_metric(action), unit=MetricUnit.Count, value=1)
        self.metrics.add_metadata(key="request_id", value=self._request_id)
        self.metrics.add_metadata(key="action", value=action)
        self.metrics.add_metadata(key="caller", value=caller)
        for key, value in audit.items():
            self.metrics.add_metadata(key=key, value=value)

    def failed(self, body: ErrorBody, *, expected: bool) -> None:
        """Count the error under its code; log the traceback of an unexpected one.

        Called while the failure is being handled, so `logger.exception` finds it.
        """
        self.metrics.add_metric(name=error_metric(body.code), unit=MetricUnit.Count, value=1)
        fields = {"code": body.code, "http_status": body.http_status}
        if expected:
            self.logger.info("request refused", extra=fields)
        else:
            self.logger.exception("request failed", extra=fields)

    def dynamodb_retry(self, operation: str) -> None:
        self.metrics.add_metric(name=DYNAMODB_RETRY, unit=MetricUnit.Count, value=1)
        self.logger.info("DynamoDB call retried", extra={"operation": operation})


def _traced(handler: LambdaHandler, service: str) -> LambdaHandler:
    # Imported here: aws_xray_sdk costs cold start, and only a traced function should pay it.
    from aws_lambda_powertools import Tracer  # noqa: PLC0415

    tracer = Tracer(service=service, patch_modules=("botocore",))
    # The response holds the conversation the caller sent; traces keep ids and timings only.
    return tracer.capture_lambda_handler(handler, capture_response=False)
