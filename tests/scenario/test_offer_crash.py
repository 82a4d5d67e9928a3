"""A web process that dies around the Stripe call of a tap pins no unit for good.

The tap puts its hold on the sweep's list before reserving, writes the hold's record in the
reservation step, and creates the session under a key and parameters fixed by the hold. The
faults are injected where a process can die: after Stripe made the session but before it was
recorded, and before Stripe was reached. Webhooks are lost (the `deaf` fixture) so that only
the sweep can settle the hold; each case is swept again and again to show it settles once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from bot.engine import offer_payments
from bot.store import keys
from payments.stripe_gateway import PaymentProviderError, StripeGateway
from sandbox.stripe_model import CheckoutSession
from tests.scenario.harness import Facto
from tests.scenario.test_campaigns import _links, get
from tests.scenario.test_reconcile import deaf

__all__ = ["deaf"]  # the fixture: a Facto whose Stripe webhooks are all lost


class Killed(Exception):
    """The web process dying at this point (the request never finishes its work)."""


async def _die(*_args: Any, **_kwargs: Any) -> Any:
    raise Killed


async def _sweep(facto: Facto, times: int = 1) -> None:
    for _ in range(times):
        await facto.worker.reconcile()
        await facto.drain()


async def _stock(facto: Facto, cid: str) -> tuple[str | None, int]:
    assert facto.merchant is not None
    reserved = await facto.redis.hget(keys.campaign(facto.merchant.id, cid), "reserved")
    return reserved, await facto.redis.hlen(keys.campaign_holds(facto.merchant.id, cid))


async def _counts(facto: Facto, cid: str) -> dict[str, str]:
    assert facto.merchant is not None
    counts: dict[str, str] = await facto.redis.hgetall(
        keys.campaign_counts(facto.merchant.id, cid)
    )
    return counts


async def _dies_after_stripe(
    facto: Facto, monkeypatch: pytest.MonkeyPatch, link: str
) -> CheckoutSession:
    """A tap whose process dies once Stripe made the session, before it is recorded; the
    session, as only Stripe (the emulator) knows it."""
    with monkeypatch.context() as fault:
        fault.setattr(offer_payments, "track_session", _die)
        assert (await facto.client.post(link, allow_redirects=False)).status == 500
    [session] = facto.sandbox.sessions.values()
    return session


async def test_died_after_stripe_made_the_session_then_it_expires_the_unit_comes_back_once(
    deaf: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid, links = await _links(deaf, 2, stock=1)
    session = await _dies_after_stripe(deaf, monkeypatch, links[0])
    assert await _stock(deaf, cid) == ("1", 1)
    assert (await deaf.client.post(links[1], allow_redirects=False)).status == 410  # sold out
    await _sweep(deaf)  # too soon: the tap might still be running
    assert await _stock(deaf, cid) == ("1", 1)
    deaf.clock.advance(5 * 60)
    await _sweep(deaf)  # found at Stripe by its reference, still open: recorded, kept
    assert deaf.merchant is not None
    hold = session.client_reference_id
    assert hold is not None
    record = await deaf.redis.hgetall(keys.offer_session(deaf.merchant.id, cid, hold))
    assert record["session_id"] == session.id
    assert await _stock(deaf, cid) == ("1", 1)
    deaf.clock.advance(26 * 60)  # the session expires; its webhook is lost
    await _sweep(deaf, times=3)
    assert await _stock(deaf, cid) == ("0", 0)
    assert (await _counts(deaf, cid))["expired"] == "1"
    assert await deaf.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0
    assert (await deaf.client.post(links[1], allow_redirects=False)).status == 303


async def test_died_after_stripe_made_the_session_then_paid_is_sold_once(
    deaf: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid, [link] = await _links(deaf, 1, stock=1)
    session = await _dies_after_stripe(deaf, monkeypatch, link)
    # The customer taps again: the same hold, the same key and parameters, the same session.
    retap = await deaf.client.post(link, allow_redirects=False)
    assert retap.status == 303
    checkout = urlparse(retap.headers["Location"]).path
    assert checkout.endswith(session.id)
    assert len(deaf.sandbox.sessions) == 1
    await deaf.client.post(f"{checkout}/card", allow_redirects=False)
    await _sweep(deaf, times=3)  # webhook lost: the Events API and the session sweep find it
    view = await get(deaf, f"/api/v1/campaigns/{cid}")
    assert sum(v["paid"] for v in view["variants"].values()) == 1
    assert sum(v["revenue"] for v in view["variants"].values()) == 2900
    counts = await _counts(deaf, cid)
    assert counts["checkout"] == "1" and counts["paid"] == "1"
    assert await _stock(deaf, cid) == ("1", 0)  # sold: the unit stays taken, no hold left
    texts = [m["text"] for m in await deaf.messages("telegram", "8000")]
    assert len([t for t in texts if t.startswith("Merci ! Votre paiement")]) == 1
    assert await deaf.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0


async def test_a_session_paid_but_never_recorded_is_found_and_sold_once(
    deaf: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No retap: only Stripe knows the session (paid from a URL the dead process had sent)."""
    cid, [link] = await _links(deaf, 1, stock=1)
    session = await _dies_after_stripe(deaf, monkeypatch, link)
    await deaf.client.post(f"/sandbox/stripe/pay/{session.id}/card", allow_redirects=False)
    # Not the Events API this time: only the session sweep's look-up by reference.
    await deaf.redis.delete(keys.STRIPE_EVENTS_CHECKPOINT)
    deaf.sandbox.events.clear()
    deaf.clock.advance(3 * 60)
    stripe = deaf.worker.services.stripe
    for _ in range(3):
        await offer_payments.sweep_sessions(deaf.redis, stripe, now=deaf.clock.now().timestamp())
        await deaf.drain()
    view = await get(deaf, f"/api/v1/campaigns/{cid}")
    assert sum(v["paid"] for v in view["variants"].values()) == 1
    assert await _stock(deaf, cid) == ("1", 0)
    assert await deaf.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0


async def test_died_before_stripe_was_reached_the_unit_comes_back_after_the_expiry(
    deaf: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid, links = await _links(deaf, 2, stock=1)
    with monkeypatch.context() as fault:
        fault.setattr(StripeGateway, "create_checkout_session", _die)
        assert (await deaf.client.post(links[0], allow_redirects=False)).status == 500
    assert not deaf.sandbox.sessions
    deaf.clock.advance(5 * 60)
    await _sweep(deaf)  # no session yet, but a slow create could still land: kept
    assert await _stock(deaf, cid) == ("1", 1)
    deaf.clock.advance(28 * 60)  # past the session's expiry: none can exist any more
    await _sweep(deaf, times=3)
    assert await _stock(deaf, cid) == ("0", 0)
    assert "expired" not in await _counts(deaf, cid)  # no session expired: none was opened
    assert await deaf.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0
    assert (await deaf.client.post(links[1], allow_redirects=False)).status == 303


async def test_a_retap_after_stripe_failed_takes_a_new_hold(
    deaf: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stripe unreachable on the first tap: the hold stays (a session may exist). Minutes
    later Stripe refuses the same request (its expiry is now too close), which proves it
    holds no session under that key: the old hold goes back through the customer's
    conversation, and the next tap takes a new one."""
    cid, [link] = await _links(deaf, 1, stock=1)

    async def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise PaymentProviderError("connection reset", retryable=True)

    with monkeypatch.context() as fault:
        fault.setattr(StripeGateway, "create_checkout_session", unreachable)
        assert (await deaf.client.post(link, allow_redirects=False)).status == 503
    assert await _stock(deaf, cid) == ("1", 1)
    deaf.clock.advance(5 * 60)
    assert (await deaf.client.post(link, allow_redirects=False)).status == 503
    await deaf.drain()
    assert await _stock(deaf, cid) == ("0", 0)  # given back, once
    retap = await deaf.client.post(link, allow_redirects=False)
    assert retap.status == 303, await retap.text()
    assert await _stock(deaf, cid) == ("1", 1)  # one unit, the new hold's
    assert len(deaf.sandbox.sessions) == 1
    assert (await _counts(deaf, cid))["checkout"] == "1"
    await _sweep(deaf, times=2)
    assert await _stock(deaf, cid) == ("1", 1)


async def test_a_retap_after_the_session_expired_unseen_takes_a_new_hold(deaf: Facto) -> None:
    """The expiry's webhook is lost and the sweep has not run: the customer's next tap finds
    their hold's session over, has it settled, and the tap after gets a fresh session."""
    cid, [link] = await _links(deaf, 1, stock=1)
    first = await deaf.client.post(link, allow_redirects=False)
    assert first.status == 303
    deaf.clock.advance(31 * 60)
    assert (await deaf.client.post(link, allow_redirects=False)).status == 503
    await deaf.drain()
    assert await _stock(deaf, cid) == ("0", 0)
    assert (await _counts(deaf, cid))["expired"] == "1"
    again = await deaf.client.post(link, allow_redirects=False)
    assert again.status == 303
    assert again.headers["Location"] != first.headers["Location"]
    assert await _stock(deaf, cid) == ("1", 1)
    await _sweep(deaf, times=2)  # the old session is settled already: nothing more
    assert (await _counts(deaf, cid))["expired"] == "1"
    assert await _stock(deaf, cid) == ("1", 1)
