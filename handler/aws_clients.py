"""botocore settings that bound every AWS call in time: the store's DynamoDB calls and the fetch
of the access key secret share them, and the Lambda timeout is computed from them.

One call makes at most `max_attempts` attempts of at most connect + read timeout each, with
botocore's standard-mode backoff between them. That backoff is what the timeout arithmetic
counts (README, "Timeout arithmetic"), so the `x-amz-retry-after` hint, which would let a
service stretch each wait by up to 5 s, is dropped before botocore reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.config import Config

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from handler.store import ClientSettings

RETRY_AFTER_HEADER = "x-amz-retry-after"


def new_client(
    service: str, settings: ClientSettings, *, endpoint_url: str | None = None, **options: Any
) -> BaseClient:
    """A client bounded in time as the timeout arithmetic assumes.

    Built from botocore's session, not boto3's: for a low-level client boto3 adds only its own
    import (s3transfer, resources, docs: ~30 ms of every cold start). Same credential chain.
    """
    from botocore.session import get_session  # noqa: PLC0415 - tests build stores without it

    config = Config(
        region_name=settings.region,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        **options,
    )
    client = get_session().create_client(service, endpoint_url=endpoint_url, config=config)
    ignore_retry_after_hints(client)
    return client


def ignore_retry_after_hints(client: BaseClient) -> None:
    """Make `client` back off as standard mode computes, whatever wait a response asks for.

    botocore (1.44) waits min(hint, backoff + 5 s) when a retried response carries the header.
    No service this function calls is known to send it, which is why dropping it costs nothing
    today; a service that starts would otherwise silently add up to 5 s per retry.
    """
    service = client.meta.service_model.service_id.hyphenize()
    # First among the handlers of this event, so the header is gone before the retry handler
    # (registered on the same event) computes the delay.
    client.meta.events.register_first(f"needs-retry.{service}", _drop_retry_after_hint)


def _drop_retry_after_hint(response: tuple[Any, Any] | None = None, **_: Any) -> None:
    if response is not None:
        response[0].headers.pop(RETRY_AFTER_HEADER, None)
