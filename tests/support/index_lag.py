"""A lagging global secondary index, simulated at the botocore layer.

moto and DynamoDB Local update indexes at once, so a lag never happens on its own. `StaleIndex`
records the engine's answers to queries of the named indexes, and afterwards answers the same
queries (same request body) with the recorded, now stale, body: what a GSI that has not yet
applied the latest writes would answer. Every other request reaches the engine.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse

from tests.support.faults import RawBody, answer_instead, deliver

GLOBAL_INDEXES = ("UserIndex", "OwnedLiveIndex")


class StaleIndex:
    def __init__(self, client: Any, indexes: tuple[str, ...] = GLOBAL_INDEXES) -> None:
        self._client = client
        self._indexes = indexes
        self.snapshot: dict[bytes, tuple[int, dict[str, Any], bytes]] = {}
        self.replaying = False
        self.counts: Counter[str] = Counter()
        client.meta.events.register("before-send.dynamodb.Query", self._before_send)

    def replay(self) -> None:
        """From now on, answer recorded queries from the snapshot."""
        self.replaying = True

    def stale_items(self) -> list[dict[str, Any]]:
        return [item for _, _, body in self.snapshot.values() for item in json.loads(body)["Items"]]

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        index = json.loads(request.body).get("IndexName")
        if index not in self._indexes:
            return None
        key = bytes(request.body)
        if self.replaying and key in self.snapshot:
            status, headers, body = self.snapshot[key]
            self.counts["replayed"] += 1
            return answer_instead(request, AWSResponse(request.url, status, headers, RawBody(body)))
        if self.replaying:
            self.counts["unrecorded"] += 1
            return None
        response = deliver(self._client, request)
        body = response.content
        self.snapshot[key] = (response.status_code, dict(response.headers), body)
        self.counts["recorded"] += 1
        return answer_instead(
            request, AWSResponse(request.url, response.status_code, response.headers, RawBody(body))
        )
