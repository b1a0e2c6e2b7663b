"""Verify the vendor's HMAC-SHA256 V4 request signature: pure, with no AWS and no environment.

The canonical request is rebuilt exactly as the vendor's SDKs build it (volcengine
`SignerV4.hashed_canonical_request_v4`):

    METHOD \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders \\n SignedHeaders \\n
    hex(sha256(body))

and signed with the key chain secret -> date -> region -> service -> "request". The checks run
in a fixed order, cheapest and least revealing first; each failure has one vendor code:

    1. no Authorization header                                MissingAuthenticationToken
    2. not "HMAC-SHA256 ...", or no Signature=                 MissingSignature
    3. X-Date missing, malformed or more than 5 minutes off    InvalidTimestamp
    4. Credential missing, or its access key unknown           InvalidAccessKey
    5. scope not <X-Date day>/<our region>/rtc/request,
       SignedHeaders without host and x-date, a signed header
       not sent, or the signature itself wrong                 SignatureDoesNotMatch
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote

from handler.errors import ApiError, ErrorCode
from handler.gateway import HttpRequest

ALGORITHM = "HMAC-SHA256"
SCOPE_TERMINATOR = "request"
MAX_CLOCK_SKEW = timedelta(minutes=5)
# The vendor's signing guide: host and x-date take part in the signature whenever present.
REQUIRED_SIGNED_HEADERS = ("host", "x-date")
X_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_X_DATE_PATTERN = re.compile(r"\d{8}T\d{6}Z")
_SIGNATURE_PATTERN = re.compile(r"[0-9a-f]{64}")
# RFC 3986 unreserved characters, as the SDKs' `quote(value, safe="-_.~")`.
_UNRESERVED = "-_.~"
# The SDK signs Host without a default port; API Gateway may pass either form.
_DEFAULT_PORTS = (":80", ":443")


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    app_ids: frozenset[int]


KeyLookup = Callable[[str], "AccessKey | None"]


@dataclass(frozen=True)
class SigningScope:
    """The region and service a signature must be scoped to."""

    region: str
    service: str


@dataclass(frozen=True)
class _Authorization:
    access_key_id: str
    scope: tuple[str, ...]
    signed_headers: str
    signature: str


def verify_signature(
    request: HttpRequest, body: bytes, keys: KeyLookup, expected: SigningScope, now: datetime
) -> AccessKey:
    """The access key that signed this request, or the ApiError that says why it is refused.

    `body` must be the request body already checked against the size limit.
    """
    authorization = _parse_authorization(request.headers.get("authorization", ""))
    x_date = _check_x_date(request.headers.get("x-date", ""), now)
    key = keys(authorization.access_key_id)
    if key is None:
        raise ApiError(
            ErrorCode.InvalidAccessKey,
            f"Access key {authorization.access_key_id!r} is not known to this service",
        )
    _check_scope(authorization, x_date, expected)
    canonical_headers = _canonical_headers(request.headers, authorization.signed_headers)
    signing_key = _signing_key(key.secret_access_key, *authorization.scope[:3])
    scope_text = "/".join(authorization.scope)
    body_hash = _sha256_hex(body)
    for path in _signed_path_candidates(request):
        canonical_request = "\n".join(
            [
                request.method,
                _canonical_uri(path),
                canonical_query_string(request.raw_query),
                canonical_headers,
                authorization.signed_headers,
                body_hash,
            ]
        )
        string_to_sign = "\n".join(
            [ALGORITHM, x_date, scope_text, _sha256_hex(canonical_request.encode("utf-8"))]
        )
        expected_signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256)
        if hmac.compare_digest(
            expected_signature.hexdigest().encode(), authorization.signature.encode()
        ):
            return key
    raise _mismatch("The request signature does not match; check the secret access key")


def canonical_query_string(raw_query: str) -> str:
    """Decode the query as sent and re-encode it the SDKs' way: RFC 3986 escapes, sorted by
    name, values of a repeated name kept in the order they were sent."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    pairs.sort(key=lambda pair: pair[0])
    return "&".join(
        f"{quote(name, safe=_UNRESERVED)}={quote(value, safe=_UNRESERVED)}" for name, value in pairs
    )


def _parse_authorization(header: str) -> _Authorization:
    header = header.strip()
    if not header:
        raise ApiError(
            ErrorCode.MissingAuthenticationToken,
            "Authorization header is required: sign the request with HMAC-SHA256",
        )
    algorithm, _, rest = header.partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, separator, value = part.strip().partition("=")
        if separator:
            fields.setdefault(name.strip(), value.strip())
    if algorithm != ALGORITHM or not fields.get("Signature"):
        raise ApiError(
            ErrorCode.MissingSignature,
            f"Authorization must be '{ALGORITHM} Credential=..., SignedHeaders=..., Signature=...'",
        )
    credential = fields.get("Credential", "").rsplit("/", 4)
    if len(credential) != 5 or not credential[0]:
        raise ApiError(
            ErrorCode.InvalidAccessKey,
            "Authorization Credential must be AccessKeyId/YYYYMMDD/region/service/request",
        )
    if "SignedHeaders" not in fields:
        raise _mismatch("Authorization must name its SignedHeaders")
    signature = fields["Signature"].lower()
    if not _SIGNATURE_PATTERN.fullmatch(signature):
        raise _mismatch("Signature must be 64 hexadecimal digits")
    return _Authorization(
        access_key_id=credential[0],
        scope=tuple(credential[1:]),
        signed_headers=fields["SignedHeaders"],
        signature=signature,
    )


def _check_x_date(value: str, now: datetime) -> str:
    value = value.strip()
    if not value:
        raise ApiError(ErrorCode.InvalidTimestamp, "X-Date header is required")
    try:
        if not _X_DATE_PATTERN.fullmatch(value):
            raise ValueError(value)
        signed_at = datetime.strptime(value, X_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ApiError(
            ErrorCode.InvalidTimestamp, "X-Date must be a UTC time as YYYYMMDDTHHMMSSZ"
        ) from None
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise ApiError(
            ErrorCode.InvalidTimestamp,
            f"X-Date {value} is more than {MAX_CLOCK_SKEW.seconds // 60} minutes away from "
            f"the service's time {now.strftime(X_DATE_FORMAT)}",
        )
    return value


def _check_scope(authorization: _Authorization, x_date: str, expected: SigningScope) -> None:
    date, region, service, terminator = authorization.scope
    if date != x_date[:8]:
        raise _mismatch(f"Credential scope date {date!r} is not the day of X-Date {x_date}")
    if region != expected.region:
        raise _mismatch(f"Credential scope region {region!r} must be {expected.region!r}")
    if service != expected.service:
        raise _mismatch(f"Credential scope service {service!r} must be {expected.service!r}")
    if terminator != SCOPE_TERMINATOR:
        raise _mismatch(f"Credential scope must end with {SCOPE_TERMINATOR!r}")


def _canonical_headers(headers: Mapping[str, str], signed_headers: str) -> str:
    names = signed_headers.split(";")
    missing_required = [name for name in REQUIRED_SIGNED_HEADERS if name not in names]
    if missing_required:
        raise _mismatch(f"SignedHeaders must include {', '.join(REQUIRED_SIGNED_HEADERS)}")
    lines = []
    for name in names:
        value = headers.get(name.lower())
        if value is None:
            raise _mismatch(f"Header {name!r} is listed in SignedHeaders but was not sent")
        value = value.strip()
        if name.lower() == "host":
            value = _without_default_port(value)
        lines.append(f"{name.lower()}:{value}\n")
    return "".join(lines)


def _without_default_port(host: str) -> str:
    for port in _DEFAULT_PORTS:
        if host.endswith(port):
            return host.removesuffix(port)
    return host


def _signed_path_candidates(request: HttpRequest) -> list[str]:
    """The path as received, and without the stage segment API Gateway may have added to it.

    A client that reached the API through a custom domain signed the path without the stage;
    one that called the stage URL signed it with. Either way the path selects nothing here.
    """
    path = request.path or "/"
    prefix = f"/{request.stage}"
    if request.stage in ("", "$default") or not (path == prefix or path.startswith(prefix + "/")):
        return [path]
    return [path, path.removeprefix(prefix) or "/"]


def _canonical_uri(path: str) -> str:
    return quote(unquote(path), safe="/")


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = secret.encode("utf-8")
    for part in (date, region, service, SCOPE_TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mismatch(message: str) -> ApiError:
    return ApiError(ErrorCode.SignatureDoesNotMatch, message)
