"""Run handler.app in a fresh process, as a Lambda sandbox would, on a list of events.

    python run_handler.py EVENTS.json RESULT.json

The environment configures it (see conftest.handler_process_env); ROOT_LOG_LEVEL, if set,
configures the root logger to print to stdout at that level, as the Lambda runtime does when a
function's application log level is set. All this process prints is the handler's own output;
RESULT.json gets the responses and whether the X-Ray SDK was loaded.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path


class Context:
    def __init__(self, number: int) -> None:
        self.aws_request_id = f"lambda-request-{number}"


def main() -> None:
    events_path, result_path = sys.argv[1:3]
    events = json.loads(Path(events_path).read_text(encoding="utf-8"))
    if os.environ.get("ROOT_LOG_LEVEL"):
        logging.basicConfig(level=os.environ["ROOT_LOG_LEVEL"], stream=sys.stdout)
    from handler import app  # noqa: PLC0415 - the import is the cold start under test

    responses = [app.lambda_handler(event, Context(n)) for n, event in enumerate(events)]
    result = {"responses": responses, "xray_sdk_loaded": "aws_xray_sdk" in sys.modules}
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
