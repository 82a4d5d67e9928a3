"""parse_inbound_sms, parse_status_callback and verify_twilio_signature."""

from __future__ import annotations

import pytest
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from channels.base import DeliveryState, InboundKind, InvalidSignature, MalformedPayload
from channels.twilio_sms import parse_inbound_sms, parse_status_callback, verify_twilio_signature

TOKEN = "tok"
URL = "https://facto.example/webhooks/twilio/sms"
FORM = {"MessageSid": "SM1", "From": "+33612345678", "To": "+33700000000", "Body": "Payer"}


def test_inbound_text() -> None:
    inbound = parse_inbound_sms(FORM)
    assert inbound.kind is InboundKind.TEXT
    assert (inbound.provider_id, inbound.address, inbound.text) == ("SM1", "+33612345678", "Payer")


def test_mms_without_body_is_unsupported() -> None:
    form = {**FORM, "Body": "", "NumMedia": "1"}
    assert parse_inbound_sms(form).kind is InboundKind.UNSUPPORTED
    assert parse_inbound_sms({**form, "Body": "photo du reçu"}).kind is InboundKind.TEXT


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_inbound_missing_fields(missing: str) -> None:
    with pytest.raises(MalformedPayload):
        parse_inbound_sms({k: v for k, v in FORM.items() if k != missing})


def test_inbound_bad_num_media() -> None:
    with pytest.raises(MalformedPayload):
        parse_inbound_sms({**FORM, "NumMedia": "many"})


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("queued", DeliveryState.QUEUED),
        ("sent", DeliveryState.SENT),
        ("delivered", DeliveryState.DELIVERED),
        ("undelivered", DeliveryState.UNDELIVERED),
        ("failed", DeliveryState.FAILED),
        ("read", DeliveryState.READ),
    ],
)
def test_status_callback(status: str, state: DeliveryState) -> None:
    report = parse_status_callback({"MessageSid": "SM1", "MessageStatus": status})
    assert (report.provider_message_id, report.state, report.error_code) == ("SM1", state, None)


def test_status_callback_error_code() -> None:
    report = parse_status_callback(
        {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30006"}
    )
    assert report.error_code == "30006"


@pytest.mark.parametrize(
    "form",
    [
        {"MessageStatus": "sent"},
        {"MessageSid": "SM1"},
        {"MessageSid": "SM1", "MessageStatus": "teleported"},
    ],
)
def test_status_callback_malformed(form: dict[str, str]) -> None:
    with pytest.raises(MalformedPayload):
        parse_status_callback(form)


def test_signature_good_bad_missing() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, FORM)
    verify_twilio_signature(URL, FORM, signature, TOKEN)
    verify_twilio_signature(URL, MultiDict(FORM), signature, TOKEN)
    for url, form, sig, token in [
        (URL, {**FORM, "Body": "Rembourser"}, signature, TOKEN),
        (URL.replace("https", "http"), FORM, signature, TOKEN),
        (URL + "/", FORM, signature, TOKEN),
        (URL, FORM, signature, "other"),
        (URL, FORM, None, TOKEN),
        (URL, FORM, "", TOKEN),
    ]:
        with pytest.raises(InvalidSignature):
            verify_twilio_signature(url, form, sig, token)


def test_signature_sha256_settings_header() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, FORM, algorithm="HMAC_SHA256")
    header = "key=k1,algorithm=HMAC_SHA256"
    verify_twilio_signature(URL, FORM, signature, TOKEN, settings_header=header)
    with pytest.raises(InvalidSignature):
        verify_twilio_signature(URL, FORM, signature, TOKEN)
