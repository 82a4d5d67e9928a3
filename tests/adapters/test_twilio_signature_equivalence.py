"""Our one-HMAC Twilio check accepts exactly what the SDK's RequestValidator accepts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from channels.base import InvalidSignature
from channels.twilio_sms import verify_twilio_signature

TOKEN = "12345678901234567890123456789012"

_text = st.text(st.characters(codec="utf-8"), max_size=30)
_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=15)
_forms = st.dictionaries(_names, _text, max_size=12)
_urls = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}{path}{query}",
    st.sampled_from(["https", "http"]),
    st.sampled_from(["pay.example.fr", "127.0.0.1", "facto.example.com"]),
    st.sampled_from(["", ":443", ":80", ":8080"]),
    st.sampled_from(["/webhooks/twilio/sms", "/webhooks/twilio/status", "/"]),
    st.sampled_from(["", "?a=1", "?b=2&a=1"]),
)
_algorithms = st.sampled_from([None, "key=k1,algorithm=HMAC_SHA256", "algorithm=HMAC_SHA1"])


def _accepted(url: str, form: object, signature: str, header: str | None) -> bool:
    try:
        verify_twilio_signature(url, form, signature, TOKEN, settings_header=header)  # type: ignore[arg-type]
    except InvalidSignature:
        return False
    return True


def _sdk(url: str, form: object, signature: str, header: str | None) -> bool:
    algorithm = None if header is None else header.rsplit("=", 1)[1]
    return bool(RequestValidator(TOKEN).validate(url, form, signature, algorithm=algorithm))


@settings(max_examples=400, deadline=None)
@given(
    url=_urls,
    signed_url=_urls,
    form=_forms,
    signed_form=_forms,
    header=_algorithms,
    same_form=st.booleans(),
    same_url=st.booleans(),
)
def test_same_verdict_as_the_sdk(
    url: str,
    signed_url: str,
    form: dict[str, str],
    signed_form: dict[str, str],
    header: str | None,
    same_form: bool,
    same_url: bool,
) -> None:
    """Signed for this URL (or another, or its port variant) and this form (or another)."""
    algorithm = None if header is None else header.rsplit("=", 1)[1]
    signer = RequestValidator(TOKEN)
    signature = signer.compute_signature(
        url if same_url else signed_url, form if same_form else signed_form, algorithm
    )
    assert _accepted(url, form, signature, header) == _sdk(url, form, signature, header)
    if same_url and same_form:
        assert _accepted(url, form, signature, header)


@settings(max_examples=200, deadline=None)
@given(url=_urls, pairs=st.lists(st.tuples(_names, _text), max_size=10), header=_algorithms)
def test_same_verdict_on_repeated_fields(
    url: str, pairs: list[tuple[str, str]], header: str | None
) -> None:
    """A form with a name repeated (aiohttp's MultiDict), as the SDK reads Flask's."""
    form = MultiDict(pairs)
    algorithm = None if header is None else header.rsplit("=", 1)[1]
    signature = RequestValidator(TOKEN).compute_signature(url, form, algorithm)
    assert _accepted(url, form, signature, header) is True
    assert _sdk(url, form, signature, header) is True
    tampered = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    assert _accepted(url, form, tampered, header) == _sdk(url, form, tampered, header)


@settings(max_examples=100, deadline=None)
@given(url=_urls, form=_forms, junk=st.text(max_size=40))
def test_any_header_value_gets_the_sdks_verdict(url: str, form: dict[str, str], junk: str) -> None:
    assert _accepted(url, form, junk, None) == _sdk(url, form, junk, None)


def test_the_port_variant_is_accepted_like_the_sdk() -> None:
    """Twilio sometimes signs https://host:443/...; we are configured without the port."""
    form = {"MessageSid": "SM1", "Body": "Bonjour"}
    with_port = RequestValidator(TOKEN).compute_signature("https://pay.example.fr:443/w", form)
    assert _accepted("https://pay.example.fr/w", form, with_port, None)
    without = RequestValidator(TOKEN).compute_signature("http://127.0.0.1/w", form)
    assert _accepted("http://127.0.0.1:8080/w", form, without, None)
    assert not _accepted("http://127.0.0.1:8080/other", form, without, None)
