import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest

from scripts.dynamodb_local import DEFAULT_CACHE_DIR, running

CACHE_DIR = Path(os.environ.get("DYNAMODB_LOCAL_CACHE") or DEFAULT_CACHE_DIR)


def _dynamodb_local_children() -> list[int]:
    pids = []
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"DynamoDBLocal.jar" in cmdline:
                pids.append(int(pid))
    return pids


@pytest.mark.ddblocal
def test_running_serves_a_table_and_stops_java_on_exit() -> None:
    # Given DynamoDB Local started by the launcher (beside the suite's own, if that one runs)
    already_running = set(_dynamodb_local_children())
    with running(CACHE_DIR) as endpoint:
        assert urlsplit(endpoint).hostname == "127.0.0.1"
        (java_pid,) = set(_dynamodb_local_children()) - already_running
        # Different dummy credentials and region than the readiness probe: -sharedDb
        # must make them all see one database.
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106
        )

        # When a table is created and an item written and read back
        client.create_table(
            TableName="launcher-test",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="launcher-test", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
        item = client.get_item(
            TableName="launcher-test", Key={"pk": {"S": "k"}}, ConsistentRead=True
        )

        # Then the item comes back as written
        assert item["Item"] == {"pk": {"S": "k"}, "v": {"N": "1"}}

    # And after the context exits, java has been reaped and the port is closed
    assert not Path(f"/proc/{java_pid}").exists()
    assert set(_dynamodb_local_children()) == already_running
    port = urlsplit(endpoint).port
    assert port is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
