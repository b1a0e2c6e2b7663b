"""`make serve`: the API on http://127.0.0.1:$PORT, run the way Lambda runs it.

- HTTP front: uvicorn (h11) with a small ASGI app. Keep-alive, chunked request bodies,
  `Expect: 100-continue` and HEAD come from h11; the body is capped while it is read.
- Each request becomes an API Gateway HTTP API (payload 2.0) event (scripts/local_events.py).
- Execution: a pool of worker processes, each running AWS's Runtime Interface Client
  (awslambdaric) on the template's handler, exactly as a Lambda sandbox does: the worker imports
  the handler once, then polls this process's Lambda Runtime API for one invocation at a time.
  Each worker has its own Runtime API port, so the runner knows which invocation a worker holds.
- A worker that dies is replaced, and the invocation it held is answered as API Gateway answers
  a function error; one that runs past the function's timeout (template.yaml) is killed and
  replaced the same way; a request that waits longer than API Gateway's integration timeout is
  answered 503.

docs/local-runner.md has the why of each choice. Dev tooling only: none of it ships in the
Lambda artifact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

try:  # run as a script (make serve), or imported as scripts.local_server (the tests)
    from local_backend import DEFAULT_TABLE_NAME, REPO, EmbeddedDynamoDB, ensure_table
    from local_events import (
        HttpAnswer,
        function_error,
        http_api_event,
        integration_timeout,
        json_answer,
        proxy_answer,
    )
except ModuleNotFoundError:
    from scripts.local_backend import DEFAULT_TABLE_NAME, REPO, EmbeddedDynamoDB, ensure_table
    from scripts.local_events import (
        HttpAnswer,
        function_error,
        http_api_event,
        integration_timeout,
        json_answer,
        proxy_answer,
    )

HOST = "127.0.0.1"
OPENAPI_PATH = "/openapi.json"
FUNCTION_LOGICAL_ID = "ConversationApiFunction"
# The contract's body cap (handler.gateway.MAX_BODY_BYTES; tests/test_local_runner.py checks that
# they agree). The runner stops reading past it and lets the handler refuse the request.
MAX_BODY_BYTES = 64 * 1024
# API Gateway HTTP API's integration timeout: its maximum and default, 30 s.
INTEGRATION_TIMEOUT_S = 30.0
LISTEN_BACKLOG = 2048
KEEP_ALIVE_S = 75
STARTUP_TIMEOUT_S = 120.0
RESPAWN_DELAY_S = 1.0
RUNTIME_PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION_LOGICAL_ID}"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class LocalContext:
    """The parts of the Lambda context object the handler and Powertools read (`make invoke`)."""

    function_name = FUNCTION_LOGICAL_ID
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = FUNCTION_ARN

    def __init__(self, timeout_seconds: float = 22.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


@dataclass(frozen=True)
class FunctionConfig:
    handler: str
    timeout_s: float
    memory_mb: int


def template_function(text: str | None = None) -> FunctionConfig:
    """The function's Handler, Timeout and default memory, read from template.yaml."""
    if text is None:
        text = (REPO / "template.yaml").read_text(encoding="utf-8")
    block = text.split(f"\n  {FUNCTION_LOGICAL_ID}:\n", 1)[1]
    block = re.split(r"\n  \S[^\n]*:\n", block, maxsplit=1)[0]
    handler = re.search(r"\n\s+Handler: (\S+)", block)
    timeout = re.search(r"\n\s+Timeout: (\d+)", block)
    memory = re.search(r"\n  FunctionMemorySize:\n(?:\s+\S.*\n)*?\s+Default: (\d+)", text)
    if handler is None or timeout is None:
        raise RuntimeError(f"template.yaml: {FUNCTION_LOGICAL_ID} has no Handler or Timeout")
    return FunctionConfig(
        handler=handler.group(1),
        timeout_s=float(timeout.group(1)),
        memory_mb=int(memory.group(1)) if memory else 512,
    )


@dataclass(frozen=True)
class RunnerConfig:
    port: int
    workers: int
    function: FunctionConfig
    integration_timeout_s: float
    embedded: bool
    access_log: bool

    @staticmethod
    def from_environment(environ: MutableMapping[str, str]) -> RunnerConfig:
        template = template_function()
        function = FunctionConfig(
            handler=environ.get("RUNNER_HANDLER", template.handler),
            timeout_s=float(environ.get("RUNNER_FUNCTION_TIMEOUT", template.timeout_s)),
            memory_mb=template.memory_mb,
        )
        embedded = not environ.get("DYNAMODB_ENDPOINT_URL")
        return RunnerConfig(
            port=int(environ.get("PORT", "3000")),
            workers=int(environ.get("WORKERS") or default_workers(embedded=embedded)),
            function=function,
            integration_timeout_s=float(
                environ.get("RUNNER_INTEGRATION_TIMEOUT", INTEGRATION_TIMEOUT_S)
            ),
            embedded=embedded,
            access_log=environ.get("RUNNER_ACCESS_LOG", "1") != "0",
        )


def default_workers(*, embedded: bool) -> int:
    """1 on the embedded engine; on a real engine one per CPU, at most 4."""
    if embedded:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(eq=False)
class Invocation:
    request_id: str
    event: bytes
    future: asyncio.Future[HttpAnswer]
    abandoned: bool = False


@dataclass(eq=False)
class Slot:
    """One worker's place: its Runtime API socket, and the process and invocation it has now."""

    index: int
    sock: socket.socket
    process: asyncio.subprocess.Process | None = None
    current: Invocation | None = None
    timer: asyncio.TimerHandle | None = None
    timed_out: bool = False
    spawned_at: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    init_error: str | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])


class Pool:
    """Worker processes running awslambdaric, fed through one Runtime API port each."""

    def __init__(self, config: RunnerConfig, environment: dict[str, str]) -> None:
        self.config = config
        self.environment = environment
        self.queue: asyncio.Queue[Invocation] = asyncio.Queue()
        self.slots = [Slot(index, _listening_socket()) for index in range(config.workers)]
        self.by_port = {slot.port: slot for slot in self.slots}
        self.closing = False
        self.started = False
        self.startup_failure: asyncio.Future[str] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # --- the public side --------------------------------------------------------------------

    async def invoke(self, event: dict[str, Any]) -> HttpAnswer:
        loop = asyncio.get_running_loop()
        invocation = Invocation(str(uuid.uuid4()), json.dumps(event).encode(), loop.create_future())
        self.queue.put_nowait(invocation)
        try:
            return await asyncio.wait_for(
                asyncio.shield(invocation.future), self.config.integration_timeout_s
            )
        except TimeoutError:
            invocation.abandoned = True
            return integration_timeout()

    # --- workers ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.startup_failure = asyncio.get_running_loop().create_future()
        self._tasks = [asyncio.create_task(self._keep_running(slot)) for slot in self.slots]
        ready = asyncio.gather(*(slot.ready.wait() for slot in self.slots))
        done, _ = await asyncio.wait(
            {asyncio.ensure_future(ready), self.startup_failure},
            timeout=STARTUP_TIMEOUT_S,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if self.startup_failure in done:
            raise RuntimeError(self.startup_failure.result())
        if not done:
            raise RuntimeError(f"workers not ready after {STARTUP_TIMEOUT_S:.0f} s")
        self.started = True

    async def stop(self) -> None:
        self.closing = True
        for slot in self.slots:
            if slot.process is not None and slot.process.returncode is None:
                slot.process.kill()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for slot in self.slots:
            if slot.process is not None and slot.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    slot.process.kill()
                await slot.process.wait()

    async def _keep_running(self, slot: Slot) -> None:
        while not self.closing:
            slot.ready.clear()
            slot.init_error = None
            slot.timed_out = False
            slot.spawned_at = time.monotonic()
            slot.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "awslambdaric",
                self.config.function.handler,
                cwd=REPO,
                env={**self.environment, "AWS_LAMBDA_RUNTIME_API": f"{HOST}:{slot.port}"},
                stdin=asyncio.subprocess.DEVNULL,
            )
            code = await slot.process.wait()
            if self.closing:
                return
            self._worker_ended(slot, code)
            if not slot.ready.is_set():
                message = f"worker {slot.index} exited with {code} during init"
                if slot.init_error:
                    message += f": {slot.init_error}"
                if not self.started and self.startup_failure and not self.startup_failure.done():
                    self.startup_failure.set_result(message)
                    return
                _say(message)
                await asyncio.sleep(RESPAWN_DELAY_S)

    def _worker_ended(self, slot: Slot, code: int) -> None:
        invocation, slot.current = slot.current, None
        if slot.timer is not None:
            slot.timer.cancel()
            slot.timer = None
        if invocation is not None and not invocation.future.done():
            invocation.future.set_result(function_error())
            why = (
                f"ran past the function timeout ({self.config.function.timeout_s:g} s) and was "
                "stopped"
                if slot.timed_out
                else f"exited with {code}"
            )
            _say(
                f"worker {slot.index} {why} while running invocation {invocation.request_id}: "
                "answered 500, starting a new worker"
            )
        elif slot.ready.is_set():
            _say(f"worker {slot.index} exited with {code}: starting a new worker")

    def _time_out(self, slot: Slot, invocation: Invocation) -> None:
        if slot.current is invocation and slot.process is not None:
            slot.timed_out = True
            with contextlib.suppress(ProcessLookupError):
                slot.process.kill()

    # --- the Lambda Runtime API, one port per worker ----------------------------------------

    async def runtime_api(self, slot: Slot, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if method == "GET" and path == f"{RUNTIME_PREFIX}/invocation/next":
            await self._next(slot, receive, send)
            return
        body = await _whole_body(receive)
        found = re.fullmatch(rf"{RUNTIME_PREFIX}/invocation/([^/]+)/(response|error)", path)
        if method == "POST" and found:
            invocation = slot.current
            if invocation is None or invocation.request_id != found.group(1):
                await _send(send, json_answer(400, {"errorType": "InvalidRequestID"}))
                return
            slot.current = None
            if slot.timer is not None:
                slot.timer.cancel()
                slot.timer = None
            answer = proxy_answer(body) if found.group(2) == "response" else function_error()
            if found.group(2) == "error":
                _say(f"invocation {invocation.request_id} failed: {body.decode(errors='replace')}")
            if not invocation.future.done():
                invocation.future.set_result(answer)
            await _send(send, json_answer(202, {"status": "OK"}))
        elif method == "POST" and path == f"{RUNTIME_PREFIX}/init/error":
            slot.init_error = body.decode(errors="replace")
            await _send(send, json_answer(202, {"status": "OK"}))
        else:
            await _send(send, json_answer(404, {"errorType": "NotFound"}))

    async def _next(self, slot: Slot, receive: Receive, send: Send) -> None:
        if not slot.ready.is_set():
            cold_ms = (time.monotonic() - slot.spawned_at) * 1000
            _say(
                f"worker {slot.index} ready: cold start {cold_ms:.0f} ms "
                f"(process start, awslambdaric, import {self.config.function.handler})"
            )
            slot.ready.set()
        taken = asyncio.ensure_future(self._take())
        gone = asyncio.ensure_future(_disconnected(receive))
        await asyncio.wait({taken, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not taken.done():
            taken.cancel()
            return
        gone.cancel()
        invocation = taken.result()
        slot.current = invocation
        timeout = self.config.function.timeout_s
        slot.timer = asyncio.get_running_loop().call_later(
            timeout, self._time_out, slot, invocation
        )
        deadline_ms = int((time.time() + timeout) * 1000)
        headers = [
            ("content-type", "application/json"),
            ("lambda-runtime-aws-request-id", invocation.request_id),
            ("lambda-runtime-deadline-ms", str(deadline_ms)),
            ("lambda-runtime-invoked-function-arn", FUNCTION_ARN),
            ("lambda-runtime-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
        ]
        await _send(send, HttpAnswer(200, headers, invocation.event))

    async def _take(self) -> Invocation:
        while True:
            invocation = await self.queue.get()
            if not invocation.abandoned:
                return invocation


class Runner:
    """The ASGI app: the public API on one port, the workers' Runtime API on theirs."""

    def __init__(self, pool: Pool, public_port: int) -> None:
        self.pool = pool
        self.public_port = public_port
        self.openapi = (REPO / "openapi.json").read_bytes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        port = scope["server"][1]
        slot = self.pool.by_port.get(port)
        if slot is not None:
            await self.pool.runtime_api(slot, scope, receive, send)
        else:
            await self.public(scope, receive, send)

    async def public(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = await _capped_body(receive, MAX_BODY_BYTES)
        if read is None:
            return  # the client went away before its body ended: no one to answer
        body, complete = read
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if method in ("GET", "HEAD") and raw_path == OPENAPI_PATH:
            answer = HttpAnswer(200, [("content-type", "application/json")], self.openapi)
        else:
            client = scope.get("client") or (HOST, 0)
            event = http_api_event(
                method=method,
                raw_path=raw_path,
                raw_query=scope["query_string"].decode("latin-1"),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                body=body,
                source_ip=client[0],
                server_port=self.public_port,
                protocol=f"HTTP/{scope['http_version']}",
            )
            answer = await self.pool.invoke(event)
        # A body cut at the cap was not read to its end: the connection cannot carry another
        # request, so it closes after this answer.
        closing = [] if complete else [("connection", "close")]
        await _send(send, answer, extra=closing, head=method == "HEAD")


async def _capped_body(receive: Receive, cap: int) -> tuple[bytes, bool] | None:
    """The body, or its first cap + 1 bytes once it is over `cap` (complete=False); None if the
    client disconnected first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        data = message.get("body", b"")
        chunks.append(data)
        size += len(data)
        if size > cap:
            return b"".join(chunks)[: cap + 1], False
        if not message.get("more_body"):
            return b"".join(chunks), True


async def _whole_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send(
    send: Send, answer: HttpAnswer, extra: list[tuple[str, str]] | None = None, head: bool = False
) -> None:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in [*answer.headers, *(extra or [])]
        if name.lower() not in ("content-length", "transfer-encoding", "connection")
        or name.lower() == "connection"
    ]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else answer.body})


def _listening_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(False)
    return sock


def _say(message: str) -> None:
    print(f"runner: {message}", flush=True)


def worker_environment(config: RunnerConfig, endpoint_url: str) -> dict[str, str]:
    """What each worker process gets: this environment, the function's defaults, and the
    variables Lambda sets in a sandbox."""
    env = dict(os.environ)
    env.setdefault("TABLE_NAME", DEFAULT_TABLE_NAME)
    env.setdefault("AWS_REGION", "us-east-1")
    env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # Off unless asked for: the runner listens on loopback only. AUTH_MODE=signature with
    # AUTH_KEYS_FILE (or AUTH_KEYS_JSON) checks signatures as the deployed function does.
    env.setdefault("AUTH_MODE", "none")
    if not env.get("AWS_ACCESS_KEY_ID"):
        # Neither moto nor DynamoDB Local checks credentials, but botocore refuses to sign without.
        env["AWS_ACCESS_KEY_ID"] = "local"
        env["AWS_SECRET_ACCESS_KEY"] = "local"
    env["DYNAMODB_ENDPOINT_URL"] = endpoint_url
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_LOGICAL_ID,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.function.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": f"{config.function.timeout_s:g}",
            "LAMBDA_TASK_ROOT": str(REPO),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def concurrency_note(config: RunnerConfig, endpoint_url: str) -> str:
    if config.embedded:
        return (
            f"embedded in-memory DynamoDB (moto) at {endpoint_url}, shared by the workers; it "
            "applies one DynamoDB call at a time, so every call is atomic and any WORKERS is "
            "safe (default 1: moto runs in this process, more workers add little)"
        )
    return f"DynamoDB at {endpoint_url}; WORKERS defaults to one per CPU, at most 4"


async def serve(config: RunnerConfig, endpoint_url: str) -> None:
    import uvicorn  # noqa: PLC0415 - dev dependency, imported once the backend is up

    environment = worker_environment(config, endpoint_url)
    ensure_table(endpoint_url, environment)
    public = _listening_socket(config.port)
    public_port = int(public.getsockname()[1])
    pool = Pool(config, environment)
    server = uvicorn.Server(
        uvicorn.Config(
            Runner(pool, public_port),
            http="h11",
            lifespan="off",
            backlog=LISTEN_BACKLOG,
            timeout_keep_alive=KEEP_ALIVE_S,
            log_level="info" if config.access_log else "warning",
            access_log=config.access_log,
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[public, *(s.sock for s in pool.slots)]))
    try:
        while not server.started:
            if serving.done():
                return
            await asyncio.sleep(0.01)
        _say(
            f"{config.workers} worker(s) running {config.function.handler} under awslambdaric, "
            f"one invocation each at a time; function timeout {config.function.timeout_s:g} s "
            f"(template.yaml), integration timeout {config.integration_timeout_s:g} s"
        )
        _say(concurrency_note(config, endpoint_url))
        try:
            await pool.start()
        except RuntimeError as error:
            _say(f"could not start: {error}")
            server.should_exit = True
            raise SystemExit(1) from None
        print(
            f"CreateConversation on http://{HOST}:{public_port} "
            f"({'embedded in-memory DynamoDB (moto)' if config.embedded else endpoint_url}, "
            f"auth {environment['AUTH_MODE']}, {config.workers} worker(s)); Ctrl-C stops it",
            flush=True,
        )
        while not server.should_exit and not serving.done():
            await asyncio.sleep(0.2)
    finally:
        await pool.stop()
        server.should_exit = True
        await serving


def main() -> None:
    config = RunnerConfig.from_environment(os.environ)
    with contextlib.ExitStack() as stack:
        if config.embedded:
            endpoint_url = stack.enter_context(EmbeddedDynamoDB()).url
        else:
            endpoint_url = os.environ["DYNAMODB_ENDPOINT_URL"]
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(config, endpoint_url))


if __name__ == "__main__":
    main()
