"""`make serve`: the API on http://127.0.0.1:$PORT, each request run through the real handler.

Stands in for `sam local start-api` where Docker cannot run: every HTTP request becomes an
API Gateway HTTP API (payload 2.0) event, as API Gateway would send it.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_backend import REPO, backend_description, local_app

HOST = "127.0.0.1"
OPENAPI_PATH = "/openapi.json"


class LocalContext:
    """The parts of the Lambda context object the handler and Powertools read."""

    function_name = "CreateConversationFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:local"

    def __init__(self, timeout_seconds: float = 15.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def http_api_event(
    method: str, target: str, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    url = urlsplit(target)
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": f"{HOST}",
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": HOST,
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }
    if query:
        event["queryStringParameters"] = query
    return event


def openapi_response() -> dict[str, Any]:
    """openapi.json as scripts/openapi.py wrote it: the one path the handler does not answer."""
    document = (REPO / "openapi.json").read_text(encoding="utf-8")
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": document}


def make_handler(app: ModuleType) -> type[BaseHTTPRequestHandler]:
    # moto's in-memory backend is not thread-safe; a dev server can afford one request at a time.
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            if self.command == "GET" and urlsplit(self.path).path == OPENAPI_PATH:
                response = openapi_response()
            else:
                event = http_api_event(self.command, self.path, dict(self.headers.items()), body)
                with lock:
                    response = app.lambda_handler(event, LocalContext())
            payload = response.get("body", "").encode("utf-8")
            self.send_response(response["statusCode"])
            for name, value in (response.get("headers") or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the handler (405 for all but POST), as through a $default route.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            print(f"{self.address_string()} {format % args}", flush=True)

    return Handler


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    with local_app() as app:
        server = ThreadingHTTPServer((HOST, port), make_handler(app))
        print(
            f"CreateConversation on http://{HOST}:{server.server_port} "
            f"({backend_description()}); Ctrl-C stops it",
            flush=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


if __name__ == "__main__":
    main()
