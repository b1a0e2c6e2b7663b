"""Who is calling, whether they may call now, and which AppIds they may act on.

The handler's order of checks, and why:

    route (method, Action, Version) -> body size -> authentication -> rate limit
    -> body validation -> AppId authorization -> write

- Route first: it needs nothing but the request line and tells a caller nothing secret.
- Size before authentication: the signature covers the body, and no body over the limit is ever
  decoded or hashed.
- Rate limit after authentication: counts are kept per verified caller, so a forged request
  cannot spend someone else's allowance; before validation, so invalid requests count too.
- AppId authorization after validation: the AppId is only known once the body is valid, and it
  must come before the only write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from handler.auth import KeyLookup, SigningScope, verify_signature
from handler.errors import ApiError, ErrorCode
from handler.gateway import HttpRequest
from handler.rate_limit import RateLimiter
from handler.settings import AuthMode


@dataclass(frozen=True)
class Caller:
    name: str
    # None: any AppId (a caller IAM let in, or anyone when authentication is off).
    app_ids: frozenset[int] | None

    def authorize(self, app_id: int) -> None:
        if self.app_ids is not None and app_id not in self.app_ids:
            raise ApiError(
                ErrorCode.AccessDenied, f"Access key {self.name!r} may not act on AppId {app_id}"
            )


ANONYMOUS = Caller(name="", app_ids=None)
Authenticator = Callable[[HttpRequest, bytes], Caller]


class Gatekeeper:
    def __init__(self, authenticate: Authenticator, limiter: RateLimiter | None) -> None:
        self._authenticate = authenticate
        self._limiter = limiter

    def admit(self, request: HttpRequest, body: bytes, action: str, kind: str) -> Caller:
        """The authenticated caller, counted against its limit for `action` (of rate class
        `kind`), or the ApiError refusing it."""
        caller = self._authenticate(request, body)
        if self._limiter is not None:
            self._limiter.admit(caller.name, action, kind)
        return caller


def gatekeeper_for(
    mode: AuthMode,
    *,
    keys: KeyLookup | None,
    scope: SigningScope,
    limiter: RateLimiter,
    clock: Callable[[], float],
) -> Gatekeeper:
    if mode == "signature":
        if keys is None:
            raise ValueError("signature authentication needs an access key source")
        return Gatekeeper(_signature_authenticator(keys, scope, clock), limiter)
    if mode == "iam":
        return Gatekeeper(authenticate_iam, limiter)
    return Gatekeeper(lambda _request, _body: ANONYMOUS, limiter=None)


def authenticate_iam(request: HttpRequest, _body: bytes) -> Caller:
    """API Gateway already verified the caller; refuse a request that reached us without it,
    so a route deployed without the authorizer fails closed."""
    if not request.iam_caller:
        raise ApiError(
            ErrorCode.MissingAuthenticationToken,
            "This API authenticates with AWS IAM (SigV4); the request carried no IAM identity",
        )
    return Caller(name=request.iam_caller, app_ids=None)


def _signature_authenticator(
    keys: KeyLookup, scope: SigningScope, clock: Callable[[], float]
) -> Authenticator:
    def authenticate(request: HttpRequest, body: bytes) -> Caller:
        now = datetime.fromtimestamp(clock(), tz=UTC)
        key = verify_signature(request, body, keys, scope, now)
        return Caller(name=key.access_key_id, app_ids=key.app_ids)

    return authenticate
