"""The verifier against signatures made by the vendor's SDK signer, and each refusal rule."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signing_support import (
    ACCESS_KEY_ID,
    HOST,
    ROUTE,
    SCOPE,
    SECRET,
    SIGNED_AT,
    WRONG_SECRET,
    known_keys,
    sdk_signed_request,
)

from handler.auth import MAX_CLOCK_SKEW, verify_signature
from handler.errors import ApiError, ErrorCode
from handler.gateway import HttpRequest


def verify(request: HttpRequest, *, body: bytes | None = None, now=SIGNED_AT):
    body = request.body() if body is None else body
    return verify_signature(request, body, known_keys, SCOPE, now)


def refusal(request: HttpRequest, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        verify(request, **kwargs)
    return caught.value


def with_headers(request: HttpRequest, **changes: str | None) -> HttpRequest:
    headers = dict(request.headers)
    for keyword, value in changes.items():
        name = keyword.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return dataclasses.replace(request, headers=headers)


# Printable ASCII without leading/trailing blanks: what survives as an HTTP header value.
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30
)
query_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)


def test_a_request_the_sdk_signed_is_accepted_as_its_key():
    # Given a create request signed by the SDK with a known key
    request = sdk_signed_request()
    # When it is verified at the moment it was signed
    key = verify(request)
    # Then the key that signed it is returned
    assert key.access_key_id == ACCESS_KEY_ID


@settings(max_examples=150, deadline=None)
@given(
    query=st.dictionaries(query_text, query_text, max_size=5),
    body=st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200),
    extra=st.dictionaries(
        st.from_regex(r"X-[A-Za-z][A-Za-z0-9-]{0,10}", fullmatch=True).filter(
            lambda name: name.lower() not in ("x-date", "x-content-sha256")
        ),
        header_values,
        max_size=3,
    ),
    path=st.sampled_from(["/", "/v1/conversations", "/a b/é"]),
)
def test_any_query_body_headers_and_path_the_sdk_signs_verify(query, body, extra, path):
    # Given arbitrary query parameters (any Unicode), body, extra X- headers and path, signed by
    # the SDK and URL-encoded on the wire as the SDK sends them
    request = sdk_signed_request(query={**ROUTE, **query}, body=body, headers=extra, path=path)
    # When verified, Then the signature matches
    assert verify(request).access_key_id == ACCESS_KEY_ID


def test_repeated_query_names_keep_the_order_they_were_sent_in():
    # Given a query with one name repeated, signed by the SDK and sent as repeated pairs
    request = sdk_signed_request(query={**ROUTE, "Tag": ["b", "a"]}, doseq=True)
    # When verified, Then it matches; swapping the values breaks it
    assert verify(request).access_key_id == ACCESS_KEY_ID
    swapped = dataclasses.replace(
        request, raw_query=request.raw_query.replace("Tag=b&Tag=a", "Tag=a&Tag=b")
    )
    assert refusal(swapped).code is ErrorCode.SignatureDoesNotMatch


def test_host_with_a_default_port_matches_the_sdk_which_signs_it_without():
    # Given the SDK configured with host:443, which it signs as the bare host but sends as is
    request = sdk_signed_request(headers={"Host": f"{HOST}:443"})
    # When verified, Then it matches
    assert verify(request).access_key_id == ACCESS_KEY_ID


def test_a_stage_prefix_added_by_api_gateway_is_accepted_either_way():
    # Given a client that signed "/" but API Gateway reports the path with its stage
    signed_root = sdk_signed_request(path="/")
    via_stage = dataclasses.replace(signed_root, path="/prod/", stage="prod")
    # And a client that called the stage URL and signed the stage path itself
    signed_stage = dataclasses.replace(sdk_signed_request(path="/prod/"), stage="prod")
    # When verified, Then both match
    assert verify(via_stage).access_key_id == ACCESS_KEY_ID
    assert verify(signed_stage).access_key_id == ACCESS_KEY_ID


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (MAX_CLOCK_SKEW, True),
        (-MAX_CLOCK_SKEW, True),
        (MAX_CLOCK_SKEW + timedelta(seconds=1), False),
        (-MAX_CLOCK_SKEW - timedelta(seconds=1), False),
    ],
)
def test_x_date_may_be_at_most_five_minutes_from_the_service_clock(offset, accepted):
    # Given a request signed at SIGNED_AT, When the service's clock reads SIGNED_AT + offset
    request = sdk_signed_request()
    now = SIGNED_AT + offset
    # Then it is accepted within five minutes either way, and InvalidTimestamp beyond
    if accepted:
        assert verify(request, now=now).access_key_id == ACCESS_KEY_ID
    else:
        assert refusal(request, now=now).code is ErrorCode.InvalidTimestamp


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"authorization": None}, ErrorCode.MissingAuthenticationToken),
        ({"authorization": "  "}, ErrorCode.MissingAuthenticationToken),
        ({"authorization": "Bearer abc"}, ErrorCode.MissingSignature),
        ({"x_date": None}, ErrorCode.InvalidTimestamp),
        ({"x_date": "2025-11-26T05:00:00Z"}, ErrorCode.InvalidTimestamp),
        ({"x_date": "20251126T250000Z"}, ErrorCode.InvalidTimestamp),
        ({"x_content_sha256": None}, ErrorCode.SignatureDoesNotMatch),
        ({"content_type": "text/plain"}, ErrorCode.SignatureDoesNotMatch),
        ({"host": "other.example.com"}, ErrorCode.SignatureDoesNotMatch),
    ],
)
def test_missing_or_changed_headers_are_refused_with_their_code(change, code):
    # Given an SDK-signed request with one header removed or changed in transit
    request = with_headers(sdk_signed_request(), **change)
    # When verified, Then it is refused with the rule's code
    assert refusal(request).code is code


def authorization_with(request: HttpRequest, old: str, new: str) -> HttpRequest:
    return with_headers(request, authorization=request.headers["authorization"].replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        (", Signature=", ", NoSignature=", ErrorCode.MissingSignature),
        ("HMAC-SHA256 ", "HMAC-SHA1 ", ErrorCode.MissingSignature),
        ("Credential=", "Cred=", ErrorCode.InvalidAccessKey),
        (f"Credential={ACCESS_KEY_ID}", "Credential=AKLTunknown", ErrorCode.InvalidAccessKey),
        ("/cn-north-1/", "/cn-beijing/", ErrorCode.SignatureDoesNotMatch),
        ("/rtc/", "/iam/", ErrorCode.SignatureDoesNotMatch),
        ("/20251126/", "/20251125/", ErrorCode.SignatureDoesNotMatch),
        ("/request,", "/aws4_request,", ErrorCode.SignatureDoesNotMatch),
        ("SignedHeaders=", "Headers=", ErrorCode.SignatureDoesNotMatch),
        ("host;", "", ErrorCode.SignatureDoesNotMatch),
    ],
)
def test_malformed_authorization_is_refused_with_its_code(old, new, code):
    # Given an SDK-signed request whose Authorization header was altered
    request = sdk_signed_request()
    assert old in request.headers["authorization"]
    # When verified, Then the alteration is refused with its code
    assert refusal(authorization_with(request, old, new)).code is code


def test_a_signed_header_that_was_not_sent_is_a_mismatch_naming_it():
    # Given an SDK-signed request that lost a header it signed
    request = with_headers(sdk_signed_request(headers={"X-Trace": "t1"}), x_trace=None)
    # When verified, Then it is a mismatch that names the header
    error = refusal(request)
    assert error.code is ErrorCode.SignatureDoesNotMatch
    assert "x-trace" in error.message


def test_a_signature_that_is_not_hex_is_a_mismatch():
    request = sdk_signed_request()
    signature = request.headers["authorization"].rsplit("Signature=", 1)[1]
    # Given the signature replaced by text of the same length that is not hexadecimal
    tampered = authorization_with(request, signature, "é" * 64)
    # When verified, Then it is a mismatch (not a crash on non-ASCII input)
    assert refusal(tampered).code is ErrorCode.SignatureDoesNotMatch


def test_an_uppercase_signature_is_the_same_signature():
    request = sdk_signed_request()
    signature = request.headers["authorization"].rsplit("Signature=", 1)[1]
    assert verify(authorization_with(request, signature, signature.upper()))


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r: dataclasses.replace(r, raw_body=r.raw_body + " "), id="body"),
        pytest.param(lambda r: dataclasses.replace(r, raw_query=r.raw_query + "&X=1"), id="query"),
        pytest.param(lambda r: dataclasses.replace(r, method="PUT"), id="method"),
        pytest.param(lambda r: dataclasses.replace(r, path="/other"), id="path"),
    ],
)
def test_tampering_with_anything_signed_is_a_mismatch(tamper):
    # Given an SDK-signed request changed in transit
    request = tamper(sdk_signed_request())
    # When verified, Then the signature does not match
    assert refusal(request).code is ErrorCode.SignatureDoesNotMatch


def test_a_wrong_secret_is_a_mismatch():
    request = sdk_signed_request(secret=WRONG_SECRET)
    assert refusal(request).code is ErrorCode.SignatureDoesNotMatch


@pytest.mark.parametrize(("region", "service"), [("cn-beijing", "rtc"), ("cn-north-1", "im")])
def test_a_signature_scoped_to_another_region_or_service_is_a_mismatch(region, service):
    # Given a request correctly signed by the SDK, but for another region or service
    request = sdk_signed_request(region=region, service=service)
    # When verified, Then it is refused, with a message naming what is expected
    error = refusal(request)
    assert error.code is ErrorCode.SignatureDoesNotMatch
    assert SCOPE.region in error.message or SCOPE.service in error.message


def test_no_refusal_quotes_the_secret():
    # Given every way a request with the known key can fail
    request = sdk_signed_request(secret=WRONG_SECRET)
    failures = [
        refusal(request),
        refusal(request, now=SIGNED_AT + timedelta(hours=1)),
        refusal(authorization_with(sdk_signed_request(), "host;", "")),
    ]
    # Then no message carries the secret
    assert all(SECRET not in error.message for error in failures)
    assert SECRET not in repr(known_keys(ACCESS_KEY_ID))
