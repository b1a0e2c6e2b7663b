"""Reach clients the handler builds itself: every botocore client created from now on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.session import Session


def hook_every_new_client(
    monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., Any]
) -> None:
    """Register `handler` for `event` on each botocore client created while the test runs."""
    create_client = Session.create_client

    def create_hooked_client(self: Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register(event, handler)
        return client

    monkeypatch.setattr(Session, "create_client", create_hooked_client)
