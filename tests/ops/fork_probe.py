"""Initialize handler.app once, fork children from that state, report what each one did.

    python fork_probe.py CHILDREN CREATES_PER_CHILD

This is what a SnapStart restore does to a function, made visible: every child starts from the
same memory, as every sandbox restored from one snapshot does. The environment points the handler
at a DynamoDB whose table exists; initialization makes no call to it, as in Lambda. Prints one
JSON list: per child, its responses, its draws from the handler's entropy, and its draws from a
PRNG seeded before the fork (the control: state that a snapshot clones).
"""

from __future__ import annotations

import json
import os
import random
import sys
import traceback
from typing import Any

from handler import app

ROUTE = {"Action": "CreateConversation", "Version": "2020-12-01"}
DRAWS = 4


def event(body: dict[str, Any], request_id: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "queryStringParameters": ROUTE,
        "requestContext": {"http": {"method": "POST"}, "requestId": request_id},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def serve(body: dict[str, Any], request_id: str) -> dict[str, Any]:
    response = app.lambda_handler(event(body, request_id), None)
    return {"status": response["statusCode"], "body": json.loads(response["body"])}


def child(number: int, creates: int, captured: random.Random) -> dict[str, Any]:
    tag = f"child{number}-{os.getpid()}"
    # Every child asks for the same single chat: one creates it, the others find it.
    single = {
        "AppId": 7,
        "OwnerUserId": 1,
        "OtherUserId": 2,
        "ConversationCoreInfo": {"ConversationType": 1},
    }
    responses = [serve(single, f"{tag}-single")]
    for index in range(creates):
        group: dict[str, Any] = {
            "AppId": 7,
            "OwnerUserId": 1,
            "ConversationCoreInfo": {"ConversationType": 2},
        }
        if index % 2:
            group["IdempotentId"] = f"{tag}-{index}"  # with a record; the others without
        responses.append(serve(group, f"{tag}-{index}"))
    return {
        "pid": os.getpid(),
        "responses": responses,
        "entropy_draws": [app.entropy.random_bits(64) for _ in range(DRAWS)],
        "captured_draws": [captured.getrandbits(64) for _ in range(DRAWS)],
    }


def run_child(number: int, creates: int, captured: random.Random, go: int, out: int) -> None:
    os.read(go, 1)  # start together, so the children draw ids in the same milliseconds
    try:
        report = child(number, creates, captured)
    except Exception:  # reported to the parent, which fails the test with it
        report = {"error": traceback.format_exc()}
    with os.fdopen(out, "w", encoding="utf-8") as sink:
        json.dump(report, sink)


def main() -> None:
    children, creates = int(sys.argv[1]), int(sys.argv[2])
    captured = random.Random()  # a control: its state is taken at init
    go_read, go_write = os.pipe()
    running = []
    for number in range(children):
        out_read, out_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(out_read)
            try:
                run_child(number, creates, captured, go_read, out_write)
            finally:
                os._exit(0)
        os.close(out_write)
        running.append((pid, out_read))
    os.write(go_write, b"x" * children)
    reports = []
    for pid, out_read in running:
        with os.fdopen(out_read, encoding="utf-8") as source:
            reports.append(json.loads(source.read() or '{"error": "child wrote nothing"}'))
        os.waitpid(pid, 0)
    print(json.dumps(reports))


if __name__ == "__main__":
    main()
