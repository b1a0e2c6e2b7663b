"""template.yaml: lints clean and declares what the code and the build expect of it."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff, RetryContext
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode

from handler.access_keys import parse_key_document
from handler.domain.model import STATUS_DISSOLVED, STATUS_NORMAL
from handler.reaper import dissolved_conversations
from handler.settings import Settings, load_settings
from handler.store import TTL_ATTRIBUTE, table_definition
from handler.table import encode_conversation
from scripts.build_artifact import TARGET_PLATFORM, TARGET_PYTHON_VERSION
from tests.support.records import a_conversation

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "template.yaml"
FUNCTION = "ConversationApiFunction"
REAPER = "MemberReaperFunction"
TABLE = "ConversationsTable"
TABLE_ARN = {"Fn::GetAtt": [TABLE, "Arn"]}
INDEX_ARNS = {"Fn::Sub": f"${{{TABLE}.Arn}}/index/*"}
STREAM_ARNS = {"Fn::Sub": f"${{{TABLE}.Arn}}/stream/*"}
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
# limiter's UpdateItem. After the write budget: the last create attempt, then the GetItems that
# read refused items an engine returned without their ALL_OLD image - at most two, the
# conversation's and one uniqueness record's (store._read_insert_refusal) - and the consistent
# GetItem of the conversation an `Exist: true` answer returns. (A member change's last attempt
# is fewer: one BatchGetItem of at most two pages and one TransactWriteItems.)
CALLS_BEFORE_THE_WRITE = 2
CALLS_AFTER_THE_WRITE_BUDGET = 1 + 2 + 1
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
# The store's methods only the reaper calls; every other public method serves the API.
REAPER_ENTRY_POINTS = {("DynamoDBConversationStore", "purge_members")}
# The reaper may take minutes (a 10000-member live group) but stays within Lambda's 15.
REAPER_MIN_TIMEOUT_S = 180
LAMBDA_MAX_TIMEOUT_S = 900


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


@pytest.fixture(scope="module")
def reaper(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"][REAPER]["Properties"]


@pytest.fixture(scope="module")
def mapping(template: dict[str, Any]) -> dict[str, Any]:
    (found,) = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    return dict(found)


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
    # Then the key layout, the indexes and the billing mode agree
    for key in (
        "AttributeDefinitions",
        "KeySchema",
        "LocalSecondaryIndexes",
        "GlobalSecondaryIndexes",
        "BillingMode",
    ):
        assert properties[key] == expected[key], key
    assert set(properties) - set(expected) >= {"StreamSpecification"}
    # And it is a new table, named after the stack (the old single-action table is left alone)
    assert properties["TableName"] == {"Fn::Sub": "${AWS::StackName}-conversations"}
    assert "ConversationTable" not in template["Resources"]
    # And its stream carries both images: the reaper compares the old Status with the new one
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    # And the data survives mistakes: backups, encryption, deletion protection, Retain policies
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    # And DynamoDB expires rate counters and dissolved conversations on the store's attribute
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_api_policy_grants_exactly_the_dynamodb_actions_its_store_calls_use(
    function: dict[str, Any],
) -> None:
    # Given the DynamoDB requests handler/store.py makes from every entry point but the reaper's
    used = _dynamodb_grants_used_by_store(reaper=False)
    # When reading every DynamoDB statement the function's policies hold, in any mode
    granted = _dynamodb_grants(function)
    # Then they grant those actions on those resources and nothing else
    actions = {action for action, _ in used}
    # (the reads, a create's and a member change's transaction entries, the rate limiter and the
    # listings' index queries: so the scan below sees every path)
    assert {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"} <= actions
    assert {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"} <= actions
    assert ("dynamodb:Query", _resource_key(INDEX_ARNS)) in used
    assert "dynamodb:BatchWriteItem" not in actions
    assert granted == used
    assert all(s["Effect"] == "Allow" for s in _policy_statements(function))


def test_reaper_policy_grants_the_purge_its_stream_and_its_failure_queue_only(
    reaper: dict[str, Any], template: dict[str, Any], mapping: dict[str, Any]
) -> None:
    # Given the DynamoDB requests the reaper's store call makes
    used = _dynamodb_grants_used_by_store(reaper=True)
    assert used == {
        ("dynamodb:Query", _resource_key(TABLE_ARN)),
        ("dynamodb:BatchWriteItem", _resource_key(TABLE_ARN)),
    }
    # When reading the reaper's statements
    statements = _policy_statements(reaper)
    table_statements = [s for s in statements if s["Resource"] in (TABLE_ARN, INDEX_ARNS)]
    stream = [s for s in statements if s["Resource"] == STREAM_ARNS]
    queue = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [_queue(mapping), "Arn"]}]
    # Then the table grants are exactly those, and the rest is this table's stream and the
    # mapping's failure queue, nothing else (no managed policy on every stream of the account)
    assert _dynamodb_grants(reaper) == used
    (stream_statement,) = stream
    assert set(_as_list(stream_statement["Action"])) == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    (queue_statement,) = queue
    assert _as_list(queue_statement["Action"]) == ["sqs:SendMessage"]
    assert len(statements) == len(table_statements) + 2
    assert all(s["Effect"] == "Allow" for s in statements)
    assert "ManagedPolicyArns" not in reaper
    assert not reaper.get("Events")
    assert template["Resources"][_queue(mapping)]["Type"] == "AWS::SQS::Queue"


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
    assert variables["RATE_LIMIT_WRITE_PER_SECOND"] == {"Ref": "RateLimitWritePerSecond"}
    assert variables["RATE_LIMIT_READ_PER_SECOND"] == {"Ref": "RateLimitReadPerSecond"}
    assert "RATE_LIMIT_PER_SECOND" not in variables
    # And the member limits come from theirs
    assert variables["GROUP_MEMBER_LIMIT"] == {"Ref": "GroupMemberLimit"}
    assert variables["LIVE_GROUP_MEMBER_LIMIT"] == {"Ref": "LiveGroupMemberLimit"}
    # And logs and metrics are named as the handler names them when nothing is set
    assert variables["POWERTOOLS_SERVICE_NAME"] == Settings.model_fields["service_name"].default
    assert (
        variables["POWERTOOLS_METRICS_NAMESPACE"]
        == Settings.model_fields["metrics_namespace"].default
    )
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
    # And the rate limits and member limits default to the handler's, within its bounds
    for parameter, field in (
        ("RateLimitWritePerSecond", "rate_limit_write_per_second"),
        ("RateLimitReadPerSecond", "rate_limit_read_per_second"),
        ("GroupMemberLimit", "group_member_limit"),
        ("LiveGroupMemberLimit", "live_group_member_limit"),
    ):
        declared = parameters[parameter]
        assert declared["Type"] == "Number", parameter
        assert declared["Default"] == Settings.model_fields[field].default, parameter
        environment = {"TABLE_NAME": "conversations", "AUTH_MODE": "none"}
        for bound in ("MinValue", "MaxValue"):
            alias = Settings.model_fields[field].alias
            assert alias is not None
            settings = load_settings({**environment, alias: str(declared[bound])})
            assert getattr(settings, field) == declared[bound], (parameter, bound)
    assert "RateLimitPerSecond" not in parameters
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
    assert {"AuthMode", "AuthKeysSecretArn", "RateLimitWritePerSecond"} <= read
    assert {"RateLimitReadPerSecond", "GroupMemberLimit", "LiveGroupMemberLimit"} <= read


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


def test_reaper_runs_the_same_artifact_with_its_own_handler_and_no_keys(
    function: dict[str, Any], reaper: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given both functions and the Makefile sam builds them with
    makefile = (REPO / "Makefile").read_text()
    # Then they are built alike, from the same code, for the same runtime and CPU
    for name in (FUNCTION, REAPER):
        resource = template["Resources"][name]
        assert resource["Metadata"] == {"BuildMethod": "makefile", "ContextPath": "."}
        # sam runs `make build-<LogicalId>`: the target exists and makes the shared artifact
        assert re.search(rf"^(.* )?build-{name}( .*)?:", makefile, re.MULTILINE), name
    for key in ("CodeUri", "Runtime", "Architectures"):
        assert reaper[key] == function[key], key
    # And the reaper's handler is handler/reaper.py's
    assert reaper["Handler"] == "handler.reaper.lambda_handler"
    source = ast.parse((REPO / "handler" / "reaper.py").read_text())
    assert "lambda_handler" in {n.name for n in source.body if isinstance(n, ast.FunctionDef)}
    # And it has minutes for a 10000-member group, within Lambda's limit
    assert REAPER_MIN_TIMEOUT_S <= reaper["Timeout"] <= LAMBDA_MAX_TIMEOUT_S
    # And its environment starts the handler's settings without any key source
    variables = reaper["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == {"Ref": TABLE}
    assert variables["AUTH_MODE"] == "none"
    plain = {k: "x" * 3 if isinstance(v, dict) else v for k, v in variables.items()}
    assert load_settings(plain).auth_mode == "none"


def test_stream_mapping_retries_bisects_and_keeps_what_it_gives_up_on(
    mapping: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the event source mapping of the reaper
    properties = mapping["Properties"]
    # Then it reads the table's stream into the reaper
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [TABLE, "StreamArn"]}
    assert properties["FunctionName"] == {"Ref": REAPER}
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    # And a failing batch is split and retried a bounded number of times, then recorded
    assert properties["BisectBatchOnFunctionError"] is True
    assert 1 <= properties["MaximumRetryAttempts"] <= 10
    queue = template["Resources"][_queue(mapping)]
    assert queue["Type"] == "AWS::SQS::Queue"
    # And the failure queue is watched by an alarm
    alarm = template["Resources"]["ReaperFailuresAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [_queue(mapping), "QueueName"]}}
    ]


def test_stream_filter_passes_a_dissolve_and_nothing_else(mapping: dict[str, Any]) -> None:
    # Given the mapping's filter and stream records of what the table holds
    (only,) = mapping["Properties"]["FilterCriteria"]["Filters"]
    pattern = json.loads(only["Pattern"])
    live = _conversation_item(STATUS_NORMAL)
    dissolved = _conversation_item(STATUS_DISSOLVED)
    member = {"PK": {"S": "C#7#42"}, "SK": {"S": "M#i1"}, "Kind": {"S": "Member"}}
    record = {"PK": {"S": "I#7#0#x"}, "SK": {"S": "I"}, "Kind": {"S": "Record"}}
    counter = {"PK": {"S": "R#1#CreateConversation#k"}, "SK": {"S": "R"}, "Status": {"N": "1"}}

    def stream_record(name: str, new: Any, old: Any) -> dict[str, Any]:
        images = {"NewImage": new, "OldImage": old}
        return {"eventName": name, "dynamodb": {k: v for k, v in images.items() if v}}

    dissolve = stream_record("MODIFY", dissolved, live)
    others = [
        stream_record("INSERT", live, None),  # a create
        stream_record("MODIFY", live, live),  # a ModifyConversation
        stream_record("INSERT", member, None),
        stream_record("REMOVE", None, member),  # the reaper's own deletes
        stream_record("INSERT", record, None),
        stream_record("MODIFY", counter, counter),
        stream_record("REMOVE", None, dissolved),  # TTL expiry of the dissolved conversation
    ]
    # When Lambda filters them, Then only the dissolve invokes the reaper
    assert _matches(pattern, dissolve)
    assert [r for r in others if _matches(pattern, r)] == []
    # And the reaper purges exactly that conversation
    assert dissolved_conversations({"Records": [dissolve]}) == [(7, 42)]


def test_outputs_name_the_api_url_table_and_function(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["TableName"]["Value"] == {"Ref": TABLE}
    assert outputs["FunctionName"]["Value"] == {"Ref": FUNCTION}
    assert outputs["ReaperFunctionName"]["Value"] == {"Ref": REAPER}
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


def _conversation_item(status: int) -> dict[str, Any]:
    return dict(encode_conversation(a_conversation(status=status)))


class _AlwaysThrottled:
    def is_throttling_error_from_context(self, context: RetryContext) -> bool:
        return True


def _dynamodb_grants_used_by_store(*, reaper: bool) -> set[tuple[str, str]]:
    """(IAM action, resource) for what store.py's entry points reach: the reaper's, or the API's.

    Follows `self.<method>` calls inside each class from the entry points; a Query with an
    IndexName needs the index resource, any other request the table's.
    """
    from botocore.session import get_session  # noqa: PLC0415 - only this helper needs it

    source = ast.parse((REPO / "handler" / "store.py").read_text())
    model = get_session().get_service_model("dynamodb")
    operation_by_method = {_snake(name): name for name in model.operation_names}
    methods = {
        (cls.name, node.name): node
        for cls in source.body
        if isinstance(cls, ast.ClassDef) and cls.name.startswith("DynamoDB")
        for node in cls.body
        if isinstance(node, ast.FunctionDef)
    }
    entry_points = {
        key for key in methods if not key[1].startswith("_") and key not in REAPER_ENTRY_POINTS
    }
    pending = set(REAPER_ENTRY_POINTS if reaper else entry_points)
    reached: set[tuple[str, str]] = set()
    while pending:
        key = pending.pop()
        reached.add(key)
        for node in ast.walk(methods[key]):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and (key[0], node.attr) in methods
            ):
                pending |= {(key[0], node.attr)} - reached
    grants: set[tuple[str, str]] = set()
    entry_kinds: set[str] = set()
    for key in reached:
        for node in ast.walk(methods[key]):
            if isinstance(node, ast.Call) and node.args:
                method = node.args[0]
                if (
                    isinstance(method, ast.Attribute)
                    and isinstance(method.value, ast.Attribute)
                    and method.value.attr == "_client"
                ):
                    operation = operation_by_method[method.attr]
                    on_index = any(keyword.arg == "IndexName" for keyword in node.keywords)
                    resource = INDEX_ARNS if on_index else TABLE_ARN
                    grants.add((f"dynamodb:{operation}", _resource_key(resource)))
            if isinstance(node, ast.Dict):
                entry_kinds |= {
                    key.value
                    for key in node.keys
                    if isinstance(key, ast.Constant) and key.value in TRANSACT_ENTRY_ACTIONS
                }
    # TransactGetItems is authorized as a GetItem of each item it reads.
    read_transaction = ("dynamodb:TransactGetItems", _resource_key(TABLE_ARN))
    if read_transaction in grants:
        grants.remove(read_transaction)
        grants.add(("dynamodb:GetItem", _resource_key(TABLE_ARN)))
    transaction = ("dynamodb:TransactWriteItems", _resource_key(TABLE_ARN))
    if transaction in grants:
        # The transaction needs no action of its own, only each of its entries'.
        grants.remove(transaction)
        assert entry_kinds, "TransactWriteItems without any entry the test recognizes"
        grants |= {(TRANSACT_ENTRY_ACTIONS[k], _resource_key(TABLE_ARN)) for k in entry_kinds}
    # Every client call goes through store._call, so none was missed by looking at its first
    # argument alone.
    direct = [
        node
        for key in reached
        for node in ast.walk(methods[key])
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "_client"
    ]
    assert direct == []
    return grants


def _dynamodb_grants(function: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource) of every statement on the table or its indexes, in any mode."""
    grants = set()
    for statement in _policy_statements(function):
        if statement["Resource"] not in (TABLE_ARN, INDEX_ARNS):
            continue
        for action in _as_list(statement["Action"]):
            grants.add((action, _resource_key(statement["Resource"])))
    return grants


def _resource_key(resource: Any) -> str:
    return json.dumps(resource, sort_keys=True)


def _queue(mapping: dict[str, Any]) -> str:
    destination = mapping["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    queue, attribute = destination["Fn::GetAtt"]
    assert attribute == "Arn"
    return str(queue)


def _matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering's rule for the exact-value patterns the mapping uses."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            name in value and _matches(inner, value[name]) for name, inner in pattern.items()
        )
    assert isinstance(pattern, list), "only exact-value lists are used"
    return value in pattern


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
