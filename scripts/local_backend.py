"""The local runner's DynamoDB: embedded (moto, in memory) by default, or a real endpoint.

Dev tooling only; nothing here ships in the Lambda artifact.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TABLE_NAME = "im-conversations-local"


@contextlib.contextmanager
def local_app() -> Iterator[ModuleType]:
    """Yield `handler.app`, imported against a DynamoDB whose table exists."""
    os.environ.setdefault("TABLE_NAME", DEFAULT_TABLE_NAME)
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # Off unless asked for: the runner listens on loopback only. AUTH_MODE=signature with
    # AUTH_KEYS_FILE (or AUTH_KEYS_JSON) checks signatures as the deployed function does.
    os.environ.setdefault("AUTH_MODE", "none")
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        # Neither moto nor DynamoDB Local checks credentials, but botocore refuses to sign without.
        os.environ["AWS_ACCESS_KEY_ID"] = "local"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "local"
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    with contextlib.ExitStack() as stack:
        if not os.environ.get("DYNAMODB_ENDPOINT_URL"):
            from moto import mock_aws  # noqa: PLC0415 - only the embedded backend needs moto

            stack.enter_context(mock_aws())
        app = importlib.import_module("handler.app")
        _create_table_if_missing(app)
        yield app


def _create_table_if_missing(app: ModuleType) -> None:
    from handler.store import table_definition  # noqa: PLC0415 - after the env is set

    client = app.store._client
    table = app.settings.table_name
    try:
        client.create_table(**table_definition(table))
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=table)


def backend_description() -> str:
    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL")
    storage = f"DynamoDB at {endpoint}" if endpoint else "embedded in-memory DynamoDB (moto)"
    return f"{storage}, auth {os.environ['AUTH_MODE']}"
