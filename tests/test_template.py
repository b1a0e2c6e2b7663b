"""template.yaml: lints clean and declares what the code and the build expect of it."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff, RetryContext
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode

from handler.access_keys import parse_key_document
from handler.settings import Settings
from handler.store import TTL_ATTRIBUTE, table_definition
from scripts.build_artifact import TARGET_PLATFORM, TARGET_PYTHON_VERSION

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "template.yaml"
FUNCTION = "CreateConversationFunction"
TABLE = "ConversationTable"
KEYS_RESOURCE = "AccessKeysSecret"
# The secret the function reads: the one the stack creates, or the one it is given.
KEYS_SECRET_ARN = {
    "Fn::If": ["CreateKeysSecret", {"Ref": KEYS_RESOURCE}, {"Ref": "AuthKeysSecretArn"}]
}
# API Gateway's integration timeout for an HTTP API (30 s): a function must answer before it.
API_GATEWAY_INTEGRATION_TIMEOUT_S = 30
# Part of those 30 s that a cold start's init may take before the handler runs (importing the
# handler takes about 0.6 s here; see docs/auth.md).
COLD_START_ALLOWANCE_S = 5
# Time between and around the AWS calls (signature check, validation, logging): milliseconds.
HANDLER_WORK_ALLOWANCE_S = 2
# The AWS calls one request can make, each bounded by the same client settings. Before the
# write: the key secret's GetSecretValue (signature mode, on an expired cache) and the rate
# limiter's UpdateItem. After the write budget: the last write attempt, then the GetItems that
# read refused items an engine returned without their ALL_OLD image - at most two, the
# conversation's and one uniqueness record's (store._read_cancellation).
CALLS_BEFORE_THE_WRITE = 2
CALLS_AFTER_THE_WRITE_BUDGET = 1 + 2
# The longest a Lambda version description may be.
VERSION_DESCRIPTION_MAX = 256
# How DynamoDB authorizes each kind of TransactWriteItems entry (Developer Guide, "Using IAM with
# DynamoDB transactions"); the transaction itself needs no action of its own.
TRANSACT_ENTRY_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    # cfn-lint's decoder reads the short-form tags (!Ref, !If) that yaml.safe_load refuses.
    decoded, problems = decode(str(TEMPLATE))
    assert not problems, [str(problem) for problem in problems]
    assert decoded is not None
    return dict(decoded)


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"][FUNCTION]["Properties"]


def test_cfn_lint_finds_nothing_not_even_informational() -> None:
    # Given the template, When cfn-lint runs every rule including the informational ones
    matches = lint_file(TEMPLATE, ManualArgs(include_checks=["I"]))
    # Then it reports nothing
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


def test_function_targets_the_runtime_and_cpu_the_artifact_is_built_for(
    function: dict[str, Any],
) -> None:
    # Given the function and the build's target, Then they name the same Python and CPU
    assert function["Runtime"] == f"python{TARGET_PYTHON_VERSION}"
    assert function["Architectures"] == ["arm64"]
    assert TARGET_PLATFORM.endswith("_aarch64")
    # And the handler names a function that handler/app.py defines
    module, name = function["Handler"].rsplit(".", 1)
    source = ast.parse((REPO / (module.replace(".", "/") + ".py")).read_text())
    assert name in {node.name for node in source.body if isinstance(node, ast.FunctionDef)}
    assert function["Handler"] == "handler.app.lambda_handler"


def test_timeout_covers_the_slowest_request_the_settings_allow(function: dict[str, Any]) -> None:
    # Given the default timeouts and retries of the AWS clients, and botocore's own backoff at
    # its maximum (throttled every time, jitter at 1). The clients drop any x-amz-retry-after
    # hint, so it adds nothing (tests/unit/test_aws_clients.py).
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    backoff = ExponentialBackoff(random=lambda: 1.0, throttling_detector=_AlwaysThrottled())
    attempts = defaults["dynamodb_max_attempts"]
    per_attempt = defaults["dynamodb_connect_timeout"] + defaults["dynamodb_read_timeout"]
    one_call = attempts * per_attempt + sum(
        backoff.delay_amount(RetryContext(attempt_number=n)) for n in range(1, attempts)
    )
    # When the secret fetch and the rate limit take that long, the last write attempt starts
    # just inside the write budget and takes that long, and so do both fallback reads
    slowest_request = (
        CALLS_BEFORE_THE_WRITE * one_call
        + defaults["write_budget_seconds"]
        + CALLS_AFTER_THE_WRITE_BUDGET * one_call
    )
    # Then the function is still running to answer it, and answers before API Gateway gives up
    # even on a cold start
    timeout = function["Timeout"]
    assert slowest_request + HANDLER_WORK_ALLOWANCE_S <= timeout
    assert timeout + COLD_START_ALLOWANCE_S <= API_GATEWAY_INTEGRATION_TIMEOUT_S
    assert function["MemorySize"] == {"Ref": "FunctionMemorySize"}


def test_table_has_the_layout_the_store_writes_and_is_protected(template: dict[str, Any]) -> None:
    # Given the table resource and the store's own table definition
    table = template["Resources"][TABLE]
    properties = table["Properties"]
    expected = table_definition("any")
    # Then the key layout and billing mode agree
    for key in ("AttributeDefinitions", "KeySchema", "BillingMode"):
        assert properties[key] == expected[key], key
    # And the data survives mistakes: backups, encryption, deletion protection, Retain policies
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    # And DynamoDB expires the rate limiter's counters on the attribute the store writes
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_policy_grants_exactly_the_dynamodb_actions_the_store_uses(
    function: dict[str, Any],
) -> None:
    # Given the DynamoDB requests handler/store.py makes
    used = _dynamodb_actions_used_by_store()
    # When reading every DynamoDB statement the function's policies hold, in any mode
    statements = [s for s in _policy_statements(function) if _service(s) == {"dynamodb"}]
    granted = {action for s in statements for action in _as_list(s["Action"])}
    # Then they grant those actions and nothing else, on the table alone
    assert {"dynamodb:PutItem", "dynamodb:GetItem"} <= used  # the create path, so the scan works
    assert "dynamodb:UpdateItem" in used  # the rate limiter, so the scan sees it
    assert granted == used
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == {"Fn::GetAtt": [TABLE, "Arn"]}


def test_policy_reads_the_key_secret_only_in_signature_mode(function: dict[str, Any]) -> None:
    # Given the function's policies
    policies = function["Policies"]
    # Then the only other policy is conditional on signature mode
    conditional = [p for p in policies if "Fn::If" in p]
    assert len(conditional) == 1
    condition, policy, otherwise = conditional[0]["Fn::If"]
    assert (condition, otherwise) == ("UseSignatureAuth", {"Ref": "AWS::NoValue"})
    # And it allows GetSecretValue alone, on the one secret the function is told to read
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert _as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]
    assert statement["Resource"] == KEYS_SECRET_ARN
    # And every other policy is about DynamoDB alone
    assert all(
        _service(s) == {"dynamodb"}
        for p in policies
        if p not in conditional
        for s in p["Statement"]
    )


def test_environment_gives_the_handler_its_settings(function: dict[str, Any]) -> None:
    # Given the function's environment
    variables = function["Environment"]["Variables"]
    # Then the table, the response Region and Powertools are configured from the stack
    assert variables["TABLE_NAME"] == {"Ref": TABLE}
    assert variables["API_REGION"] == {"Ref": "ResponseRegion"}
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert variables["POWERTOOLS_SERVICE_NAME"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"]
    # And tracing is switched by one parameter in both places it matters
    assert function["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    assert variables["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["TracingOn", "false", "true"]}
    # And every variable the handler reads at start-up without a default is set
    required = {f.alias for f in Settings.model_fields.values() if f.is_required()}
    assert required <= set(variables)
    # And authentication and the rate limit come from their parameters
    assert variables["AUTH_MODE"] == {"Ref": "AuthMode"}
    assert variables["RATE_LIMIT_PER_SECOND"] == {"Ref": "RateLimitPerSecond"}
    # And the key secret is named only in signature mode, the same one the policy lets it read
    assert variables["AUTH_KEYS_SECRET_ID"] == {
        "Fn::If": ["UseSignatureAuth", KEYS_SECRET_ARN, {"Ref": "AWS::NoValue"}]
    }
    # And every variable set is one the handler reads or Powertools' own
    aliases = {f.alias for f in Settings.model_fields.values()}
    assert {name for name in variables if not name.startswith("POWERTOOLS_")} <= aliases


def test_auth_parameters_and_conditions(template: dict[str, Any]) -> None:
    # Given the template's parameters and conditions
    parameters, conditions = template["Parameters"], template["Conditions"]
    # Then the mode is one of the handler's, signature by default as in the handler
    mode = parameters["AuthMode"]
    assert mode["AllowedValues"] == ["signature", "iam", "none"]
    assert mode["Default"] == Settings.model_fields["auth_mode"].default
    # And the rate limit defaults to the handler's
    rate = parameters["RateLimitPerSecond"]
    assert rate["Default"] == Settings.model_fields["rate_limit_per_second"].default
    # And a secret is created only in signature mode when none is given
    assert parameters["AuthKeysSecretArn"]["Default"] == ""
    assert conditions["UseSignatureAuth"] == {"Fn::Equals": [{"Ref": "AuthMode"}, "signature"]}
    assert conditions["UseIamAuth"] == {"Fn::Equals": [{"Ref": "AuthMode"}, "iam"]}
    assert conditions["CreateKeysSecret"] == {
        "Fn::And": [
            {"Condition": "UseSignatureAuth"},
            {"Fn::Equals": [{"Ref": "AuthKeysSecretArn"}, ""]},
        ]
    }


def test_the_created_key_secret_starts_as_a_valid_document_with_no_keys(
    template: dict[str, Any],
) -> None:
    # Given the secret the template creates
    secret = template["Resources"][KEYS_RESOURCE]
    # Then it exists only when the stack is to create it, and outlives the stack like the table
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Condition"] == "CreateKeysSecret"
    assert secret["DeletionPolicy"] == "Retain"
    assert secret["UpdateReplacePolicy"] == "Retain"
    # And its value is a key document the handler accepts, holding no key
    assert parse_key_document(secret["Properties"]["SecretString"]) == {}
    # And the stack reports its ARN when it creates it
    output = template["Outputs"]["AccessKeysSecretArn"]
    assert output["Condition"] == "CreateKeysSecret"
    assert output["Value"] == {"Ref": KEYS_RESOURCE}


def test_iam_mode_puts_the_aws_iam_authorizer_on_every_route(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    # Given the API's OpenAPI body and the function's routes on it
    body = template["Resources"]["HttpApi"]["Properties"]["DefinitionBody"]
    methods = {event["Properties"]["Method"].lower() for event in function["Events"].values()}
    openapi_methods = {"x-amazon-apigateway-any-method" if m == "any" else m for m in methods}
    # Then the body names every routed method, and each requires AWS_IAM in iam mode only
    assert set(body["paths"]) == {"/"}
    assert set(body["paths"]["/"]) == openapi_methods
    for operation in body["paths"]["/"].values():
        assert operation == {
            "security": {"Fn::If": ["UseIamAuth", [{"AWS_IAM": []}], {"Ref": "AWS::NoValue"}]}
        }
    # And AWS_IAM is API Gateway's SigV4 authorizer, declared in iam mode only
    condition, components, otherwise = body["components"]["Fn::If"]
    assert (condition, otherwise) == ("UseIamAuth", {"Ref": "AWS::NoValue"})
    assert components["securitySchemes"]["AWS_IAM"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_snapstart_is_a_parameter_on_published_versions(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    # Given the SnapStart setting, Then it applies to published versions when the parameter says so
    assert function["SnapStart"] == {
        "ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}
    }
    assert template["Conditions"]["SnapStartOn"] == {
        "Fn::Equals": [{"Ref": "SnapStartEnabled"}, "true"]
    }
    # And the API calls an alias that each deploy moves to a freshly published version
    assert function["AutoPublishAlias"]
    assert function["AutoPublishAliasAllProperties"] is True


def test_version_description_names_every_parameter_the_function_reads(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    # Given the parameters the function's properties read (directly or through a condition)
    others = {key: value for key, value in function.items() if key != "VersionDescription"}
    read = _parameters_read(others, template)
    # Then a change to any of them changes the version description, so a new version is published
    assert read <= _parameters_read(function["VersionDescription"], template)
    assert {"LogLevel", "TracingEnabled", "SnapStartEnabled", "FunctionMemorySize"} <= read
    assert {"AuthMode", "AuthKeysSecretArn", "RateLimitPerSecond"} <= read


def test_version_description_fits_lambdas_limit_with_every_parameter_at_its_longest(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    # Given the description with each parameter at the longest value it accepts
    description = function["VersionDescription"]["Fn::Sub"]
    for name in set(_sub_names(description)):
        description = description.replace(
            "${" + name + "}", _longest_value(template["Parameters"][name])
        )
    # Then Lambda accepts it
    assert len(description) <= VERSION_DESCRIPTION_MAX


def test_api_routes_post_and_every_other_method_on_root_to_the_function(
    function: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the function's API events
    routes = {
        (event["Properties"]["Method"], event["Properties"]["Path"])
        for event in function["Events"].values()
        if event["Type"] == "HttpApi" and event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
    }
    # Then POST / creates, and any other method on / reaches the handler for its 405 envelope
    assert routes == {("POST", "/"), ("ANY", "/")}
    assert template["Resources"]["HttpApi"]["Type"] == "AWS::Serverless::HttpApi"


def test_api_throttles_every_route_from_parameters(template: dict[str, Any]) -> None:
    # Given the API's default route settings, Then rate and burst limits come from parameters
    settings = template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        assert template["Parameters"][name]["Type"] == "Number"


def test_alarms_watch_5xx_rate_throttles_and_p99_and_notify_only_a_given_topic(
    template: dict[str, Any],
) -> None:
    # Given the template's alarms
    alarms = {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    # Then one divides the API's 5xx count by its request count
    rate = alarms["ServerErrorRateAlarm"]
    watched = {
        m["Id"]: m["MetricStat"]["Metric"]["MetricName"]
        for m in rate["Metrics"]
        if "MetricStat" in m
    }
    assert watched == {"errors": "5xx", "requests": "Count"}
    # And the others watch the function's throttles and p99 duration
    assert alarms["ThrottlesAlarm"]["MetricName"] == "Throttles"
    assert alarms["DurationP99Alarm"]["MetricName"] == "Duration"
    assert alarms["DurationP99Alarm"]["ExtendedStatistic"] == "p99"
    # And each notifies the SNS topic only when one is given
    notify = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for properties in alarms.values():
        assert properties["AlarmActions"] == notify
    assert template["Conditions"]["HasAlarmTopic"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }


def test_outputs_name_the_api_url_table_and_function(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["TableName"]["Value"] == {"Ref": TABLE}
    assert outputs["FunctionName"]["Value"] == {"Ref": FUNCTION}
    assert "${HttpApi}.execute-api" in outputs["ApiUrl"]["Value"]["Fn::Sub"]


def test_samconfig_overrides_only_parameters_the_template_declares(
    template: dict[str, Any],
) -> None:
    # Given samconfig.toml's deploy defaults
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    overridden = {item.split("=", 1)[0] for item in deploy["parameter_overrides"]}
    # Then each names a declared parameter, and the deploy may create the function's IAM role
    assert overridden <= set(template["Parameters"])
    assert deploy["capabilities"] == "CAPABILITY_IAM"


class _AlwaysThrottled:
    def is_throttling_error_from_context(self, context: RetryContext) -> bool:
        return True


def _dynamodb_actions_used_by_store() -> set[str]:
    """IAM actions for the client methods store.py calls and the transaction entries it builds."""
    from botocore.session import get_session  # noqa: PLC0415 - only this helper needs it

    source = ast.parse((REPO / "handler" / "store.py").read_text())
    model = get_session().get_service_model("dynamodb")
    operation_by_method = {_snake(name): name for name in model.operation_names}
    methods = {
        node.attr
        for node in ast.walk(source)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "_client"
    }
    operations = {operation_by_method[m] for m in methods if m in operation_by_method}
    actions = {f"dynamodb:{op}" for op in operations - {"TransactWriteItems"}}
    if "TransactWriteItems" in operations:
        entry_kinds = {
            key.value
            for node in ast.walk(source)
            if isinstance(node, ast.Dict)
            for key in node.keys
            if isinstance(key, ast.Constant) and key.value in TRANSACT_ENTRY_ACTIONS
        }
        assert entry_kinds, "TransactWriteItems without any entry the test recognizes"
        actions |= {TRANSACT_ENTRY_ACTIONS[kind] for kind in entry_kinds}
    return actions


def _snake(operation: str) -> str:
    from botocore import xform_name  # noqa: PLC0415 - only this helper needs it

    return str(xform_name(operation))


def _parameters_read(value: Any, template: dict[str, Any]) -> set[str]:
    parameters = set(template["Parameters"])
    names = set(_references(value))
    pending, seen = set(_conditions_used(value)), set()
    while pending:  # conditions may name other conditions
        condition = pending.pop()
        seen.add(condition)
        names |= set(_references(template["Conditions"][condition]))
        pending |= set(_conditions_used(template["Conditions"][condition])) - seen
    return names & parameters


def _policy_statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of every policy, whichever branch of a conditional policy applies."""
    policies = []
    for policy in function["Policies"]:
        branches = policy["Fn::If"][1:] if "Fn::If" in policy else [policy]
        policies += [b for b in branches if b != {"Ref": "AWS::NoValue"}]
    return [statement for policy in policies for statement in policy["Statement"]]


def _service(statement: dict[str, Any]) -> set[str]:
    return {action.split(":", 1)[0] for action in _as_list(statement["Action"])}


def _longest_value(parameter: dict[str, Any]) -> str:
    if "AllowedValues" in parameter:
        return max((str(v) for v in parameter["AllowedValues"]), key=len)
    if parameter["Type"] == "Number":
        return str(parameter["MaxValue"])
    return "x" * parameter["MaxLength"]


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::Sub" and isinstance(inner, str):
                yield from _sub_names(inner)
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def _conditions_used(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::If":
                yield inner[0]
            elif key == "Condition" and isinstance(inner, str):
                yield inner
            yield from _conditions_used(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _conditions_used(inner)


def _sub_names(text: str) -> Iterator[str]:
    for chunk in text.split("${")[1:]:
        yield chunk.split("}", 1)[0]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value
