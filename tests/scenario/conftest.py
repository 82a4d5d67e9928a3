from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store.users import Role
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto


@pytest.fixture
async def owner(facto: Facto) -> AsyncIterator[Browser]:
    """The merchant's owner, logged in to the console (password and TOTP)."""
    _, secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    browser = Browser.open(facto)
    await browser.log_in("owner@atelier.fr", secret)
    yield browser
    await browser.close()
