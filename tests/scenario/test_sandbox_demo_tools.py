"""The demo's tools (issue 13): a clock that moves forward, every customer in the simulator.

Before: the demo could not move time, so a promise reminder or an instalment link could not be
watched; the simulator listed only the two seeded customers, and in French for everyone.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.scenario.harness import Facto, invoice_body


async def test_the_clock_moves_forward_and_due_reminders_go_out(facto: Facto) -> None:
    await facto.issue(invoice_body(due=date(2026, 12, 15)))
    await facto.customer_says("telegram", "424242", "je paierai vendredi")
    before = len(await facto.messages("telegram", "424242"))
    start = facto.clock.now()

    response = await facto.client.post("/sandbox/api/clock/advance", json={"days": 3})
    assert response.status == 200
    assert (await response.json())["now"] == (start + timedelta(days=3)).isoformat()
    await facto.drain()

    said = await facto.messages("telegram", "424242")
    assert len(said) == before + 1 and "/p/" in said[-1]["text"]  # the promised day's link


async def test_the_clock_refuses_bad_moves(facto: Facto) -> None:
    for body in ({"days": -1}, {"days": 0}, {"weeks": 1}, {"days": 1, "hours": 1}, {"days": 91}):
        response = await facto.client.post("/sandbox/api/clock/advance", json=body)
        assert response.status == 400, body
    assert (await facto.client.get("/sandbox/api/clock")).status == 200


async def test_the_simulator_button_moves_a_day(facto: Facto) -> None:
    start = facto.clock.now()
    page = await (await facto.client.get("/sandbox/phone")).text()
    assert "Avancer d'un jour" in page
    response = await facto.client.post(
        "/sandbox/phone/clock", data={"hours": "24"}, allow_redirects=False
    )
    assert response.status == 303
    assert facto.clock.now() == start + timedelta(days=1)


async def test_the_simulator_lists_api_created_customers_in_their_language(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", "+447911123456", locale="en"))
    page = await (await facto.client.get("/sandbox/phone")).text()
    assert "+447911123456" in page
    chat = await (await facto.client.get("/sandbox/phone/sms/+447911123456")).text()
    assert 'lang="en"' in chat and 'placeholder="Your message"' in chat
