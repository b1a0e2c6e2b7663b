"""Member writes at once, on the real engine: counts stay exact, one owner, never past the limit.

Amazon DynamoDB Local only (moto is neither the engine nor safe under concurrent writes). Every
thread is its own handler-equivalent (`tests/support/member_audit.Caller`: the action's request
model and `run` over its own store and botocore client, failures described as the handler
describes them). Each test counts the writes the engine refused on a condition, to show that
the calls really met at the engine rather than one after another.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from typing import Any

import pytest

from handler.domain.members import MemberLimits
from tests.support.backends import new_table
from tests.support.member_audit import (
    APP_ID,
    OWNER,
    Answer,
    Caller,
    Traffic,
    audit_conversation,
    max_in_flight,
    member_items,
    preload_actions,
    run_threads,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.heavy]

CALLERS = 32
RUN_SECONDS = 3.0
POOL = list(range(100, 196))  # 96 users besides the owner: the group never reaches 200


@pytest.fixture
def table(ddblocal_endpoint: str) -> str:
    preload_actions()
    return new_table(Caller(ddblocal_endpoint, "unused").client)


def _effects(answers: list[Answer]) -> dict[int, list[tuple[Answer, bool]]]:
    """Per user, each call that named them and whether a success leaves them a member."""
    per_user: dict[int, list[tuple[Answer, bool]]] = defaultdict(list)
    for answer in answers:
        if answer.action == "BatchAddConversationParticipant":
            users = [info["ParticipantUserId"] for info in answer.body["ParticipantInfos"]]
            for user in users:
                per_user[user].append((answer, True))
        else:
            for user in answer.body["ParticipantUserIds"]:
                per_user[user].append((answer, False))
    return per_user


def test_32_callers_adding_and_removing_overlapping_users_keep_every_count_exact(
    ddblocal_endpoint: str, table: str
) -> None:
    # Given a group, and 32 callers each with its own client, working on overlapping windows of
    # 12 users out of 96 (neighbouring callers share 9 of them)
    traffic = Traffic()
    setup = Caller(ddblocal_endpoint, table)
    short_id = setup.create_group()
    answers: list[Answer] = []
    lock = threading.Lock()
    start = threading.Barrier(CALLERS)

    def worker(number: int) -> None:
        caller = Caller(ddblocal_endpoint, table, traffic=traffic)
        rng = random.Random(number)
        window = [POOL[(number * 3 + k) % len(POOL)] for k in range(12)]
        start.wait()
        deadline = time.monotonic() + RUN_SECONDS
        while time.monotonic() < deadline:
            users = rng.sample(window, rng.randint(1, 4))
            if rng.random() < 0.55:
                answer = caller.add(short_id, users)
            else:
                answer = caller.remove(short_id, users)
            with lock:
                answers.append(answer)

    # When they add and remove for a few seconds at once
    seconds = run_threads([lambda n=n: worker(n) for n in range(CALLERS)])

    # Then every call succeeded (or gave up with 503 after its re-reads), adds never failed a user
    statuses = Counter(answer.status for answer in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert all(
        answer.result == {"FailedUserIds": []}
        for answer in answers
        if answer.ok and answer.action == "BatchAddConversationParticipant"
    )
    # and the audit finds MemberCount equal to the member items, the scan and the UserIndex
    audit = audit_conversation(setup, short_id)
    assert audit.problems == []
    # and every user whose last call did not overlap another call naming them ended as it said
    determined = mismatched = 0
    for user, calls in _effects(answers).items():
        last, member_after = max(calls, key=lambda call: call[0].started)
        others = [answer.ended for answer, _ in calls if answer is not last]
        if last.ok and all(ended < last.started for ended in others):
            determined += 1
            mismatched += (user in audit.users) != member_after
    assert mismatched == 0
    assert determined > 0
    # and the calls really met: the engine refused conditional writes, many calls were in flight
    in_flight = max_in_flight(answers)
    assert traffic.refused > 0
    assert in_flight > 1
    print(
        f"\n[concurrency] {len(answers)} calls by {CALLERS} callers in {seconds:.1f} s: "
        f"{dict(statuses)}; {audit.member_count} members at the end; engine refusals "
        f"{dict(traffic.refusals)} (reasons {dict(traffic.reasons)}); max in flight "
        f"{in_flight}; {determined} users' final state checked against their last call"
    )


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_callers_racing_for_the_last_places_never_pass_the_limit(
    ddblocal_endpoint: str, table: str, batch: int
) -> None:
    # Given groups limited to 20 members that hold 15, and 8 callers per group each adding
    # `batch` distinct new users at the same instant
    limits = MemberLimits(group=20, live_group=10_000)
    traffic = Traffic()
    setup = Caller(ddblocal_endpoint, table, limits=limits)
    callers = [Caller(ddblocal_endpoint, table, limits=limits, traffic=traffic) for _ in range(8)]
    rounds = 3
    totals: Counter[str] = Counter()
    in_flight = []
    for round_number in range(rounds):
        short_id = setup.create_group()
        assert setup.add(short_id, range(2, 16)).ok
        base = 1000 * (round_number + 1)
        wanted = {n: [base + n * 10 + k for k in range(batch)] for n in range(8)}
        # When they all add at once
        answers = _add_at_once(callers, short_id, wanted)

        # Then each call either added all its users or was refused with the limit's code
        codes = Counter(answer.code or "OK" for answer in answers.values())
        totals.update(codes)
        assert set(codes) <= {"OK", "ConversationParticipantsMoreThanLimit"}, codes
        winners = [n for n, answer in answers.items() if answer.ok]
        # and exactly as many won as the 5 places allow, the final count is what they added
        assert len(winners) == 5 // batch
        audit = audit_conversation(setup, short_id)
        assert audit.problems == []
        assert audit.member_count == 15 + batch * len(winners) <= 20
        # and a refused call wrote nothing: none of its users is a member or in the UserIndex
        refused_users = [user for n in wanted if n not in winners for user in wanted[n]]
        added_users = {user for n in winners for user in wanted[n]}
        assert audit.users == {OWNER, *range(2, 16), *added_users}
        assert setup.participants(short_id, refused_users) == {}
        assert not _in_user_index(setup, refused_users)
        in_flight.append(max_in_flight(answers.values()))
    # and the callers met at the engine: it refused the guarded writes of the calls that lost
    assert traffic.refusals["TransactWriteItems TransactionCanceledException"] > 0
    print(
        f"\n[limit race] batch {batch}: {rounds} rounds, answers {dict(totals)}; engine refused "
        f"{traffic.refused} writes ({dict(traffic.reasons)}); max in flight {in_flight}"
    )


def _add_at_once(
    callers: list[Caller], short_id: int, wanted: dict[int, list[int]]
) -> dict[int, Answer]:
    answers: dict[int, Answer] = {}
    barrier = threading.Barrier(len(callers))

    def worker(n: int) -> None:
        barrier.wait()
        answers[n] = callers[n].add(short_id, wanted[n])

    run_threads([lambda n=n: worker(n) for n in range(len(callers))])
    return answers


def _in_user_index(caller: Caller, users: list[int]) -> list[dict[str, Any]]:
    found = []
    for user in users:
        found += caller.client.query(
            TableName=caller.table_name,
            IndexName="UserIndex",
            KeyConditionExpression="UserPK = :u",
            ExpressionAttributeValues={":u": {"S": f"U#{APP_ID}#0#i{user}"}},
        )["Items"]
    return found


@pytest.mark.parametrize("conversation_type", [2, 100], ids=["group", "live-group"])
def test_transfers_role_changes_and_removals_at_once_leave_exactly_one_owner(
    ddblocal_endpoint: str, table: str, conversation_type: int
) -> None:
    # Given a conversation of 19 (the owner and users 2 ... 19), some of them managers
    traffic = Traffic()
    setup = Caller(ddblocal_endpoint, table)
    short_id = setup.create_group(conversation_type)
    pool = list(range(2, 20))
    assert setup.add(short_id, pool).ok
    assert setup.set_roles(short_id, {2: 2, 3: 2, 4: 2}).ok
    everyone = [OWNER, *pool]
    answers: list[Answer] = []
    samples: Counter[str] = Counter()
    raw_owner_counts: Counter[int] = Counter()
    bad_samples: list[str] = []
    lock = threading.Lock()
    deadline = [0.0]

    def arm() -> None:
        deadline[0] = time.monotonic() + RUN_SECONDS

    # Released together once all 14 threads are ready; the run's clock starts then.
    barrier = threading.Barrier(14, action=arm)

    def writer(number: int, kind: str) -> None:
        caller = Caller(ddblocal_endpoint, table, traffic=traffic)
        rng = random.Random(number)
        barrier.wait()
        while time.monotonic() < deadline[0]:
            if kind == "transfer":
                answer = caller.transfer(short_id, rng.choice(everyone))
            elif kind == "roles":
                chosen = rng.sample(everyone, rng.randint(1, 3))
                answer = caller.set_roles(short_id, {user: rng.choice((0, 2)) for user in chosen})
            elif kind == "remove":
                answer = caller.remove(short_id, rng.sample(everyone, rng.randint(1, 2)))
            else:
                answer = caller.add(short_id, rng.sample(pool, rng.randint(1, 2)))
            with lock:
                answers.append(answer)

    def sampler() -> None:
        caller = Caller(ddblocal_endpoint, table)
        barrier.wait()
        while time.monotonic() < deadline[0]:
            shown = caller.participants(short_id, everyone)
            owners = [user for user, info in shown.items() if info["Role"] == 1]
            page = caller.scan_page(short_id, 0, 20, reverse=False, only_ids=False)
            scanned = [p["ParticipantUserId"] for p in page["Participants"] if p["Role"] == 1]
            raw = member_items(caller.client, table, short_id)
            with lock:
                samples["BatchGetConversationParticipant"] += 1
                samples["ScanConversationParticipantList"] += 1
                raw_owner_counts[sum(item["Role"]["N"] == "1" for item in raw)] += 1
                if len(owners) != 1:
                    bad_samples.append(f"BatchGet showed owners {owners}")
                if page["HasMore"] or len(scanned) != 1:
                    bad_samples.append(f"Scan page showed owners {scanned}")

    kinds = ["transfer"] * 3 + ["roles"] * 3 + ["remove"] * 3 + ["add"] * 3
    workers = [lambda n=n, kind=kind: writer(n, kind) for n, kind in enumerate(kinds)]
    workers += [sampler, sampler]

    # When transfers, demotions/promotions, removals and re-adds run at once for a few seconds
    seconds = run_threads(workers)

    # Then every read sampled in between showed exactly one owner
    assert bad_samples == []
    assert samples["BatchGetConversationParticipant"] > 0
    # and every answer is a success, a transfer to a user removed meanwhile, or a 503
    codes = Counter(f"{answer.action}:{answer.code or 'OK'}" for answer in answers)
    allowed = {"OK", "ParticipantNotInConversation", "ServiceUnavailableTemp"}
    assert {code.split(":")[1] for code in codes} <= allowed, codes
    assert sum(n for code, n in codes.items() if code.startswith("ModifyConversation:OK")) > 0
    # and at the end exactly one item has Role 1, the owner's, and MemberCount is exact
    audit = audit_conversation(setup, short_id)
    assert audit.problems == []
    # and the calls met: the engine refused guarded writes
    assert traffic.refused > 0
    print(
        f"\n[owner race] type {conversation_type}: {len(answers)} writes in {seconds:.1f} s "
        f"{dict(codes)}; {dict(samples)} samples, raw member items with n Role 1 items "
        f"{dict(raw_owner_counts)}; engine refused {dict(traffic.refusals)} "
        f"({dict(traffic.reasons)}); {audit.member_count} members, owner {audit.owner}"
    )


def test_a_transfer_between_the_two_reads_of_a_live_group_scan_page(
    ddblocal_endpoint: str, table: str
) -> None:
    # Given a live group whose owner 1 has managers 2 and 3 and a plain member 4
    reader = Caller(ddblocal_endpoint, table)
    writer = Caller(ddblocal_endpoint, table)
    short_id = reader.create_group(100)
    assert reader.add(short_id, [2, 3], role=2).ok
    assert reader.add(short_id, [4]).ok
    transferred = []

    def transfer_first(request: Any, **_: Any) -> None:
        if b"StaffIndex" in request.body and not transferred:
            transferred.append(writer.transfer(short_id, 4))

    reader.client.meta.events.register("before-send.dynamodb.Query", transfer_first)
    # When the ownership moves to member 4 after the page read the conversation, before its
    # StaffIndex query
    page = reader.scan_page(short_id, 0, 20, reverse=False, only_ids=False)
    # Then the page still shows exactly one Role 1
    assert transferred and transferred[0].ok
    owners = [p["ParticipantUserId"] for p in page["Participants"] if p["Role"] == 1]
    assert len(owners) == 1, page["Participants"]
