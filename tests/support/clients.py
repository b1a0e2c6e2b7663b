"""Reach clients the handler builds itself: every botocore client created from now on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.session import Session

Handlers = dict[str, Callable[..., Any]]


def create_client_with(handlers: Handlers) -> Callable[..., Any]:
    """A Session.create_client that registers `handlers` ({event: handler}) on each client."""
    create_client = Session.create_client

    def create_hooked_client(self: Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        for event, handler in handlers.items():
            client.meta.events.register(event, handler)
        return client

    return create_hooked_client


def hook_every_new_client(
    monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., Any]
) -> None:
    """Register `handler` for `event` on each botocore client created while the test runs."""
    monkeypatch.setattr(Session, "create_client", create_client_with({event: handler}))
