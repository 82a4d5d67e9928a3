from tests.scenario.harness import Facto, invoice_body


async def test_invoice_is_sent_on_telegram(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    assert created["number"].startswith("F-")
    messages = await facto.messages("telegram", "424242")
    assert len(messages) == 1
    print(messages[0])
