"""`make load`: N concurrent keep-alive clients against `make serve`'s runner on DynamoDB Local.

For each worker count (1, 2, 4) a fresh runner starts on a fresh table; N client threads each
hold one HTTP/1.1 connection and send group creates back to back for a fixed time. Printed and
written to bench/load-results.json and bench/load.png: requests/s, p50/p99 latency, 5xx
answers and connection errors. Bounded in time and count; loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from scripts.dynamodb_local import running
from tests.support.servers import local_runner

REPO = Path(__file__).resolve().parent.parent
ROUTE = "/?Action=CreateConversation&Version=2020-12-01"
BODY = b'{"AppId":10,"OwnerUserId":10001,"ConversationCoreInfo":{"ConversationType":2}}'


def client(address: tuple[str, int], until: float, out: dict[str, list], lock: threading.Lock):
    latencies: list[float] = []
    statuses: list[int] = []
    errors = 0
    conn = http.client.HTTPConnection(*address, timeout=60)
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            conn.request("POST", ROUTE, body=BODY, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(*address, timeout=60)
            continue
        latencies.append(time.perf_counter() - started)
        statuses.append(response.status)
    conn.close()
    with lock:
        out["latencies"].extend(latencies)
        out["statuses"].extend(statuses)
        out["errors"].append(errors)


def run_once(endpoint: str, workers: int, clients: int, seconds: float) -> dict[str, float]:
    with local_runner(
        inherit_except=("DYNAMODB_", "WORKERS", "TABLE_NAME", "AUTH_", "RUNNER_"),
        DYNAMODB_ENDPOINT_URL=endpoint,
        TABLE_NAME=f"load-{uuid.uuid4().hex[:8]}",
        WORKERS=str(workers),
        RUNNER_ACCESS_LOG="0",
        RATE_LIMIT_PER_SECOND="1000000",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - DynamoDB Local checks none
        AWS_REGION="us-east-1",
    ) as url:
        parts = urlsplit(url)
        address = (str(parts.hostname), int(parts.port or 0))
        out: dict[str, list] = {"latencies": [], "statuses": [], "errors": []}
        lock = threading.Lock()
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=client, args=(address, until, out, lock))
            for _ in range(clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    latencies = sorted(out["latencies"])
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "workers": workers,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "http_5xx": sum(1 for status in out["statuses"] if status >= 500),
        "non_200": sum(1 for status in out["statuses"] if status != 200),
        "connection_errors": sum(out["errors"]),
    }


def chart(results: list[dict[str, float]], path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    workers = [str(r["workers"]) for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.bar(workers, [r["requests_per_s"] for r in results], color="#4c72b0")
    left.set(title="throughput", xlabel="workers", ylabel="requests/s")
    right.plot(workers, [r["p50_ms"] for r in results], marker="o", label="p50")
    right.plot(workers, [r["p99_ms"] for r in results], marker="o", label="p99")
    right.set(title="latency", xlabel="workers", ylabel="ms")
    right.legend()
    fig.suptitle(
        f"make load: {results[0]['clients']} keep-alive clients, group creates, DynamoDB Local, "
        f"{os.cpu_count()} cores"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    cache = Path(os.environ.get("DYNAMODB_LOCAL_CACHE") or REPO / ".cache" / "dynamodb-local")
    results = []
    with running(cache) as endpoint:
        for workers in args.workers:
            result = run_once(endpoint, workers, args.clients, args.seconds)
            print(json.dumps(result), flush=True)
            results.append(result)
    (REPO / "bench" / "load-results.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, REPO / "bench" / "load.png")


if __name__ == "__main__":
    main()
