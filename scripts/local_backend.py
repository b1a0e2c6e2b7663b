"""The local runner's DynamoDB: embedded (moto, in memory) by default, or a real endpoint.

Dev tooling only; nothing here ships in the Lambda artifact.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

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


class EmbeddedDynamoDB:
    """moto's DynamoDB as a server on a loopback port, in the runner's own process.

    Every worker points DYNAMODB_ENDPOINT_URL at it, so all of them share one in-memory table
    that outlives any worker. moto's backend is not safe for concurrent writes (its conditional
    transactions are not atomic across threads), so the server applies one DynamoDB call at a
    time: each call is then atomic, as each is on the real engine.
    """

    def __init__(self) -> None:
        import threading  # noqa: PLC0415

        from moto.moto_server.werkzeug_app import (  # noqa: PLC0415 - embedded backend only
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server  # noqa: PLC0415

        # Its per-request log lines would drown the runner's own.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        moto_app = DomainDispatcherApplication(create_backend_app)
        one_at_a_time = threading.Lock()

        def serialised(environ: Any, start_response: Any) -> Any:
            with one_at_a_time:
                # The whole answer is built under the lock: moto's answers are lists.
                return list(moto_app(environ, start_response))

        self._server = make_server(
            "127.0.0.1", 0, serialised, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> EmbeddedDynamoDB:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join()


def ensure_table(endpoint_url: str, environment: dict[str, str]) -> None:
    """Create the function's table at `endpoint_url` if it is missing (handler.store's shape),
    with the credentials and names the workers get."""
    import boto3  # noqa: PLC0415

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from handler.store import table_definition  # noqa: PLC0415

    table_name = environment["TABLE_NAME"]
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=environment["AWS_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=environment.get("AWS_SESSION_TOKEN"),
    )
    try:
        client.create_table(**table_definition(table_name))
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
