"""The operations settings: Powertools' variables validated at cold start, and the tracing rule."""

from __future__ import annotations

import pytest

from handler.settings import SettingsError, load_settings

BASE = {"TABLE_NAME": "conversations", "AUTH_MODE": "none"}


def test_service_and_namespace_come_from_powertools_variables() -> None:
    # Given Powertools' service and namespace variables
    environ = {
        **BASE,
        "POWERTOOLS_SERVICE_NAME": "im-api",
        "POWERTOOLS_METRICS_NAMESPACE": "Im/Prod",
    }
    # When the settings load
    settings = load_settings(environ)
    # Then they name the service and the metrics namespace
    assert (settings.service_name, settings.metrics_namespace) == ("im-api", "Im/Prod")


def test_without_them_the_service_has_its_own_defaults() -> None:
    # Given no Powertools variables
    # When the settings load
    settings = load_settings(BASE)
    # Then service and namespace still have names, which metrics need
    assert (settings.service_name, settings.metrics_namespace) == (
        "im-conversations",
        "ImConversations",
    )


def test_a_trace_switch_that_is_not_a_boolean_stops_the_cold_start_naming_it() -> None:
    # Given a mistyped POWERTOOLS_TRACE_DISABLED
    environ = {**BASE, "POWERTOOLS_TRACE_DISABLED": "ture"}
    # When the settings load
    with pytest.raises(SettingsError) as refused:
        load_settings(environ)
    # Then the error names the variable
    assert "POWERTOOLS_TRACE_DISABLED" in str(refused.value)


@pytest.mark.parametrize(
    ("environ", "tracing"),
    [
        ({}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({"POWERTOOLS_TRACE_DISABLED": "false"}, False),
    ],
)
def test_tracing_is_on_in_lambda_unless_switched_off(
    environ: dict[str, str], tracing: bool
) -> None:
    # Given where the function runs and what POWERTOOLS_TRACE_DISABLED says
    # When the settings load
    settings = load_settings({**BASE, **environ})
    # Then tracing is on only in a Lambda sandbox that did not switch it off
    assert settings.tracing_enabled is tracing


def test_an_empty_dynamodb_endpoint_is_no_endpoint() -> None:
    # Given the template's declared, empty DYNAMODB_ENDPOINT_URL (sam local may set it)
    settings = load_settings(
        {"TABLE_NAME": "conversations", "AUTH_MODE": "none", "DYNAMODB_ENDPOINT_URL": ""}
    )
    # Then the function talks to the region's DynamoDB
    assert settings.dynamodb_endpoint_url is None
