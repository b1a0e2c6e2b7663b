"""`make bench` in miniature, so the benchmark never rots, and its logic on its own. Timings are
reported, never asserted: this checks what a run writes, how targets are judged, how capacity is
counted and how the scenarios keep their paths."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from bench.capacity import capacity_of, item_size, transaction_index_units
from bench.cold_start import LAZY, first_request_ratio
from bench.copies import _record_update
from bench.instrument import Call, RawAnswer, WritesHeldBack
from bench.report import contract_broken, evaluate_targets
from bench.warm import WrongAnswerError, check_answer
from bench.workload import (
    CONTRACT_REQUESTS,
    GROUP_MEMBER_LIMIT,
    SCENARIOS,
    World,
    api_gateway_event,
)
from handler.api import action_names
from handler.aws_clients import new_client
from handler.store import ClientSettings

REPO = Path(__file__).resolve().parent.parent
SECTIONS = {
    "meta",
    "requests_and_capacity",
    "warm_latency",
    "cpu",
    "copies",
    "cold_start",
    "package",
    "targets",
}
CONTENDERS = ("handler", "floor")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke_run(ddblocal_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "bench.run", "--iterations", "2", "--warmup", "0"]
    command += ["--cold-runs", "1", "--import-runs", "1", "--copy-iterations", "1"]
    command += ["--no-package", "--endpoint", ddblocal_endpoint, "--out", str(out)]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    return {"out": out, "stdout": completed.stdout, "completed": completed}


@pytest.mark.ddblocal
@pytest.mark.heavy
def test_a_smoke_run_measures_every_scenario_within_the_contract(
    smoke_run: dict[str, Any],
) -> None:
    # Given a benchmark run of two calls per scenario, in its own interpreter as make bench does
    completed = smoke_run["completed"]

    # When its exit status and results file are read
    results = json.loads((smoke_run["out"] / "results.json").read_text())

    # Then no call broke the contract's request limits, every section and scenario is there,
    # and no number is absurd
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert set(results) == SECTIONS
    assert results["package"] == {"skipped": True}
    for scenario in SCENARIOS:
        accounted = results["requests_and_capacity"][scenario.name]
        assert 1 <= accounted["requests"] <= scenario.max_requests
        assert accounted["write_units"] + accounted["read_units"] > 0
        latency, cpu = results["warm_latency"][scenario.name], results["cpu"][scenario.name]
        for contender in CONTENDERS:
            assert latency[contender]["n"] == 2
            assert 0 < latency[contender]["p50"] <= latency[contender]["p95"]
            assert latency[contender]["max_requests"] == accounted["requests"]
            assert 0 < cpu[contender]["cpu_us"]["p50"] <= cpu[contender]["cpu_us"]["p95"]
    cold = results["cold_start"]
    assert set(cold["sides"]) == {"handler + every action", "handler.app", "floor"}
    assert len(cold["action_imports"]) == len(action_names())
    for entry in results["copies"].values():
        assert entry["copy"]["write_units"] > entry["reference"]["write_units"]


@pytest.mark.ddblocal
@pytest.mark.heavy
def test_a_smoke_run_judges_every_target_and_draws_the_chart(smoke_run: dict[str, Any]) -> None:
    # Given the same run
    results = json.loads((smoke_run["out"] / "results.json").read_text())

    # When its targets and outputs are looked at
    targets = results["targets"]

    # Then each scenario has a request and a latency verdict, plus the cold start's; each is
    # printed as a line, and the chart is a PNG
    assert len(targets) == 2 * len(SCENARIOS) + 1
    assert all(isinstance(target["passed"], bool) for target in targets)
    verdict_lines = [
        line
        for line in smoke_run["stdout"].splitlines()
        if line.lstrip().startswith(("PASS", "FAIL"))
    ]
    assert len(verdict_lines) == len(targets)
    assert (smoke_run["out"] / "results.png").read_bytes().startswith(PNG_SIGNATURE)


def test_every_action_has_a_scenario_and_the_contracts_limit() -> None:
    # Given the actions the router serves (one module each)
    actions = set(action_names())

    # When the benchmark's scenarios and contract table are compared with them
    covered = {scenario.action for scenario in SCENARIOS}

    # Then every action is measured and judged against a limit, and nothing else is
    assert covered == actions
    assert set(CONTRACT_REQUESTS) == actions
    assert len({scenario.name for scenario in SCENARIOS}) == len(SCENARIOS)


def _results(requests: dict[str, int], ratios: dict[str, float] | None = None) -> dict[str, Any]:
    ratios = ratios or {}
    return {
        "requests_and_capacity": {s.name: {"requests": requests.get(s.name, 1)} for s in SCENARIOS},
        "warm_latency": {
            s.name: {"handler": {"max_requests": 1}, "ratio_p50": ratios.get(s.name, 1.0)}
            for s in SCENARIOS
        },
        "cold_start": {"ratio_p50": 1.0, "ratio_p50_first_request": 1.0},
    }


def test_a_call_over_the_contracts_limit_fails_its_target_and_the_run() -> None:
    # Given results where a page of a user's conversations made 3 requests (the contract allows
    # 2) and a new group's create 2 (the contract says exactly 1)
    results = _results({"user_conversations": 3, "create_group": 2})

    # When the targets are judged
    targets = evaluate_targets(results)

    # Then exactly those two request targets fail, and they fail the run
    failed = [target["name"] for target in targets if not target["passed"]]
    assert failed == ["requests: create: new group", "requests: user's conversations: page of 20"]
    assert contract_broken(targets)


def test_a_slow_call_is_flagged_but_does_not_fail_the_run() -> None:
    # Given results within the contract where one scenario's handler took 1.3 x the floor
    results = _results({}, ratios={"count": 1.3})

    # When the targets are judged
    targets = evaluate_targets(results)

    # Then that latency target is FAIL, yet the run's status stays a success
    assert [t["name"] for t in targets if not t["passed"]] == ["warm latency: count"]
    assert not contract_broken(targets)


def test_the_largest_request_count_seen_is_the_one_judged() -> None:
    # Given results where accounting saw 1 request for an is-member call but a timed call saw 2
    results = _results({})
    results["warm_latency"]["is_member"]["handler"]["max_requests"] = 2

    # When the targets are judged
    failed = [t["name"] for t in evaluate_targets(results) if not t["passed"]]

    # Then the timed call's count breaks the contract's 1
    assert failed == ["requests: is member"]


def test_item_size_follows_the_documented_rules() -> None:
    # Given an item with a string, a number and a map, sized by hand per the Developer Guide:
    # "PK" 2 + "ab" 2; "N" 1 + 12345 (5 digits -> 3 bytes) + 1; "M" 1 + 3 + (1 + "k" 1 + "v" 1)
    item = {"PK": {"S": "ab"}, "N": {"N": "12345"}, "M": {"M": {"k": {"S": "v"}}}}

    # When it is sized
    size = item_size(item)

    # Then the sum is the hand-computed one
    assert size == 4 + 5 + 7


def _transaction(*actions: dict[str, Any], reported: float = 2.0) -> Call:
    return Call(
        operation="TransactWriteItems",
        params={"TransactItems": list(actions)},
        parsed={"ConsumedCapacity": [{"TableName": "t", "CapacityUnits": reported}]},
        answer=RawAnswer(200, {}, b"{}"),
    )


def test_a_transaction_is_charged_as_documented_whatever_the_engine_reports() -> None:
    # Given a committed two-item transaction that DynamoDB Local reported as 2 units
    put = {"Put": {"TableName": "t", "Item": {"PK": {"S": "a"}}}}
    call = _transaction(put, put)

    # When its capacity is accounted
    use = capacity_of([call])

    # Then it costs 2 WCU per item, as AWS documents, and the engine's number is kept beside it
    assert (use.write_units, use.local_reported_units) == (4.0, 2.0)
    assert use.disagreements == frozenset({"TransactWriteItems"})


MEMBER_KEY = {"PK": {"S": "C#7#1"}, "SK": {"S": "M#i5"}}
CONVERSATION_KEY = {"PK": {"S": "C#7#1"}, "SK": {"S": "C"}}


def test_index_writes_follow_the_indexes_each_item_is_in() -> None:
    # Given an add's transaction: the conversation's update (in no index) and a new member's put
    # (in JoinIndex and UserIndex, not StaffIndex: Role 0), and a transfer's: the old owner's
    # update that removes StaffNumber and the new owner's that sets it
    member = {**MEMBER_KEY, "JoinNumber": {"N": "3"}, "UserPK": {"S": "U#7#0#i5"}}
    update_conversation = {"Update": {"Key": CONVERSATION_KEY, "UpdateExpression": "SET #M = :v0"}}
    add = _transaction(update_conversation, {"Put": {"Item": member}})
    old_owner = {
        "Key": MEMBER_KEY,
        "UpdateExpression": "SET #Role = :v2 REMOVE #StaffNumber, #OwnedLivePK",
        "ConditionExpression": "attribute_exists(#PK) AND #Role = :v0",
        "ExpressionAttributeValues": {":v0": {"N": "1"}, ":v2": {"N": "0"}},
    }
    new_owner = {
        "Key": MEMBER_KEY,
        "UpdateExpression": "SET #Role = :v2, #StaffNumber = #JoinNumber REMOVE #OwnedLivePK",
        "ConditionExpression": "attribute_exists(#PK) AND #Role = :v0",
        "ExpressionAttributeValues": {":v0": {"N": "0"}, ":v2": {"N": "1"}},
    }
    transfer = _transaction(update_conversation, {"Update": old_owner}, {"Update": new_owner})

    # When their index writes are counted
    counted = (transaction_index_units(add), transaction_index_units(transfer))

    # Then the add writes 2 index entries; the transfer rewrites both JoinIndex entries, deletes
    # one StaffIndex entry and adds another
    assert counted == (2.0, 4.0)


def test_a_deleted_manager_leaves_three_indexes() -> None:
    # Given a transaction deleting a member whose Role guard says manager (2)
    delete = {
        "Delete": {
            "Key": MEMBER_KEY,
            "ConditionExpression": "attribute_exists(#PK) AND #Role = :v0",
            "ExpressionAttributeValues": {":v0": {"N": "2"}},
        }
    }

    # When its index writes are counted
    units = transaction_index_units(_transaction(delete))

    # Then JoinIndex, UserIndex and StaffIndex each lose an entry
    assert units == 3.0


def test_a_refused_write_is_charged_from_what_it_sent() -> None:
    # Given an UpdateItem refused by its condition: an error answer reports no capacity
    call = Call(
        operation="UpdateItem",
        params={"Key": CONVERSATION_KEY},
        parsed={"Error": {"Code": "ConditionalCheckFailedException"}},
        answer=RawAnswer(400, {}, b"{}"),
    )

    # When its capacity is accounted
    use = capacity_of([call])

    # Then it still costs the write's 1 WCU, computed
    assert (use.write_units, use.read_units, use.sources) == (1.0, 0.0, frozenset({"computed"}))


def test_a_record_copy_update_keeps_only_the_aliases_its_expression_uses() -> None:
    # Given the conversation's update, guarded by a condition with its own names and values
    write = {
        "TableName": "t",
        "Key": CONVERSATION_KEY,
        "UpdateExpression": "SET #Name = :v0",
        "ConditionExpression": "attribute_exists(#PK) AND #Owner = :v1",
        "ExpressionAttributeNames": {"#Name": "Name", "#PK": "PK", "#Owner": "Owner"},
        "ExpressionAttributeValues": {":v0": {"S": "x"}, ":v1": {"S": "i1"}},
    }
    record = {"PK": {"S": "S#copy"}, "SK": {"S": "S"}}

    # When the same change is made for a record that holds a copy
    update = _record_update("t", record, write)

    # Then it sets the same field on the record, unguarded, without the condition's aliases
    # (DynamoDB refuses an alias that no expression uses)
    assert update == {
        "TableName": "t",
        "Key": record,
        "UpdateExpression": "SET #Name = :v0",
        "ExpressionAttributeNames": {"#Name": "Name"},
        "ExpressionAttributeValues": {":v0": {"S": "x"}},
    }


def test_held_back_writes_are_answered_without_the_network_and_reads_are_sent() -> None:
    # Given a client whose endpoint is a loopback port where nothing listens
    settings = ClientSettings("us-east-1", "http://127.0.0.1:9", 0.2, 0.2, 1)
    client = new_client("dynamodb", settings, endpoint_url=settings.endpoint_url)

    # When it writes and reads with writes held back
    with WritesHeldBack(client):
        written = client.update_item(TableName="t", Key=CONVERSATION_KEY)
        with pytest.raises(EndpointConnectionError):
            client.get_item(TableName="t", Key=CONVERSATION_KEY)

    # Then the write got an empty success, and the read went out (and found no server)
    assert "ResponseMetadata" in written


class FakeService:
    """Answers the set-up calls a World makes, with fresh ids."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._ids = count(1)

    def __call__(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((action, body))
        if action == "CreateConversation":
            return {"ConversationShortId": next(self._ids)}
        return {"FailedUserIds": []}


def test_new_members_go_to_a_group_with_room_and_a_full_group_is_replaced() -> None:
    # Given the scenarios' world over a fake service, and the add of 50 new members
    service = FakeService()
    world = World(service)
    add_50 = next(s for s in SCENARIOS if s.name == "add_new_50")

    # When four batches of 50 are drawn
    groups = [add_50.body(world)["ConversationShortId"] for _ in range(4)]

    # Then the first three fit one group (1 owner + 150 <= 200), the fourth starts another
    assert groups[0] == groups[1] == groups[2] != groups[3]
    assert 1 + 3 * 50 <= GROUP_MEMBER_LIMIT < 1 + 4 * 50


def test_each_transfer_names_the_member_who_is_not_the_owner() -> None:
    # Given the scenarios' world, whose transfer group is owned by its first user
    world = World(FakeService())
    transfer = next(s for s in SCENARIOS if s.name == "modify_transfer")

    # When three transfers are drawn
    owners = [transfer.body(world)["ConversationCoreInfo"]["OwnerUserId"] for _ in range(3)]

    # Then ownership goes to the second user, back, and to the second again
    first, second = world.transfer_users
    assert owners == [second, first, second]


def test_a_delete_first_adds_the_members_it_removes() -> None:
    # Given the scenarios' world over a fake service
    service = FakeService()
    world = World(service)
    delete = next(s for s in SCENARIOS if s.name == "delete")

    # When a delete's body is drawn
    body = delete.body(world)

    # Then the users it removes were just added to the same group, untimed
    action, added = service.calls[-1]
    assert action == "BatchAddConversationParticipant"
    assert added["ConversationShortId"] == body["ConversationShortId"]
    assert [p["ParticipantUserId"] for p in added["ParticipantInfos"]] == body["ParticipantUserIds"]


def test_an_answer_off_the_scenarios_path_stops_the_run() -> None:
    # Given a create of an existing single chat, answered as if it had created a new one
    scenario = next(s for s in SCENARIOS if s.name == "create_existing_single")
    response = {"statusCode": 200, "body": json.dumps({"Result": {"Exist": False}})}

    # When the answer is checked
    # Then the benchmark refuses to count it
    with pytest.raises(WrongAnswerError, match="Exist"):
        check_answer(scenario, response)


def test_events_name_the_action_in_the_query_string() -> None:
    # Given a body for a count
    # When its event is built
    event = api_gateway_event("GetConversationUserCount", {"AppId": 7, "ConversationShortId": 1})

    # Then the Action and Version are in the query string, as API Gateway passes them
    assert event["queryStringParameters"] == {
        "Action": "GetConversationUserCount",
        "Version": "2020-12-01",
    }
    assert json.loads(event["body"]) == {"AppId": 7, "ConversationShortId": 1}


def test_the_cold_start_judged_is_handler_app_and_its_first_requests_slowest_action() -> None:
    # Given handler.app at 600 ms, action modules of 10 and 30 ms, and a floor of 400 ms
    measured = {
        "sides": {LAZY: {"import_ms": {"p50": 600.0}}, "floor": {"import_ms": {"p50": 400.0}}},
        "action_imports": {
            "create_conversation": {"import_ms": {"p50": 10.0}},
            "scan_conversation_participant_list": {"import_ms": {"p50": 30.0}},
        },
    }
    # When the first request's ratio is worked out / Then it counts the slowest action once
    assert first_request_ratio(measured) == round(630 / 400, 3)
