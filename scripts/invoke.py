"""`make invoke EVENT=events/x.json`: run the handler on one event, as `sam local invoke -e`."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from local_backend import local_app
from local_server import LocalContext


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: invoke.py EVENT_FILE")
    event = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    # As with `sam local invoke`, the function's own output (logs, EMF metrics) goes to stderr
    # and only the response to stdout, so the response can be piped.
    with contextlib.redirect_stdout(sys.stderr), local_app() as app:
        response = app.lambda_handler(event, LocalContext())
    print(json.dumps(response, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
