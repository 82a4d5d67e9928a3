"""An agent (not an owner) on the dashboard or Settings gets a 403 page in their language
(the browser's, as the whole console) that leads to the console, not a plain English line."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto

OWNERS_PAGES = (
    "/console/dashboard",
    "/console/dashboard/kpis",
    "/console/dashboard/invoices/new",
    "/console/dashboard/settings",
    "/console/dashboard/settings/policy",
)


@pytest.fixture
async def agent(facto: Facto) -> AsyncIterator[Browser]:
    _, secret = await add_user(facto, "agent@atelier.fr", "Aline")
    browser = Browser.open(facto)
    await browser.log_in("agent@atelier.fr", secret)
    yield browser
    await browser.close()


@pytest.mark.parametrize(
    ("language", "title", "link"),
    [
        ("fr", "Réservé aux responsables du commerce", "Aller à la console"),
        ("en", "For the merchant's owners", "Go to the console"),
    ],
)
async def test_an_agent_gets_a_page_in_their_language_leading_to_the_console(
    agent: Browser, language: str, title: str, link: str
) -> None:
    for path in OWNERS_PAGES:
        status, text = await agent.get(path, headers={"Accept-Language": language})
        assert status == 403, path
        assert f'<html lang="{language}">' in text, path
        assert f'<h1 id="owners-only">{title}</h1>' in text, path
        assert f'<a href="/console" id="to-console">{link}</a>' in text, path
        assert "Aline" in text  # who is logged in, with the console's log-out forms


async def test_an_agents_post_to_an_owners_action_gets_the_page_too(
    facto: Facto, agent: Browser
) -> None:
    await agent.get("/console")  # the session's CSRF token, as a page would carry it
    status, text = await agent.post("/console/dashboard/settings/keys")
    assert status == 403
    assert 'id="to-console"' in text
