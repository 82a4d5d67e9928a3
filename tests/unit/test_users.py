"""Merchant users: argon2 passwords, unique emails, TOTP codes used once, sessions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pyotp
import pytest
import redis.asyncio as aioredis

from bot.store import keys
from bot.store.users import (
    Role,
    UserError,
    check_password,
    check_totp,
    close_all_sessions,
    confirm_enrolment,
    create_user,
    load_session,
    open_session,
    use_recovery_code,
)

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough passphrase"  # pragma: allowlist secret


async def ines(redis: aioredis.Redis, email: str = "ines@atelier.fr", merchant: str = "m_1"):
    return await create_user(
        redis,
        merchant_id=merchant,
        email=email,
        name="Inès",
        role=Role.AGENT,
        password=PASSWORD,
        now=NOW,
    )


async def test_the_password_is_stored_as_an_argon2id_hash(redis: aioredis.Redis) -> None:
    user = await ines(redis)
    stored = await redis.get(keys.user("m_1", user.id))
    assert PASSWORD not in stored and "$argon2id$" in stored
    assert await check_password(redis, " INES@atelier.fr ", PASSWORD) == user
    assert await check_password(redis, "ines@atelier.fr", PASSWORD + "x") is None
    assert await check_password(redis, "nobody@atelier.fr", PASSWORD) is None


async def test_an_email_belongs_to_one_user_even_when_created_twice_at_once(
    redis: aioredis.Redis,
) -> None:
    results = await asyncio.gather(
        ines(redis, merchant="m_1"), ines(redis, merchant="m_2"), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["User", "UserError"]


async def test_weak_passwords_and_non_emails_are_refused(redis: aioredis.Redis) -> None:
    with pytest.raises(UserError, match="password"):
        await create_user(
            redis,
            merchant_id="m_1",
            email="a@b.fr",
            name="",
            role=Role.AGENT,
            password="short",
            now=NOW,
        )
    with pytest.raises(UserError, match="email"):
        await create_user(
            redis,
            merchant_id="m_1",
            email="not-an-email",
            name="",
            role=Role.AGENT,
            password=PASSWORD,
            now=NOW,
        )


async def test_a_totp_code_opens_one_session_only(redis: aioredis.Redis) -> None:
    user = await ines(redis)
    secret = pyotp.random_base32()
    code = pyotp.TOTP(secret).now()
    assert await check_totp(redis, user, secret, code)
    assert not await check_totp(redis, user, secret, code)  # replayed
    assert not await check_totp(redis, user, secret, "12345x")


async def test_recovery_codes_work_once_each(redis: aioredis.Redis) -> None:
    user = await ines(redis)
    codes = await confirm_enrolment(redis, user, pyotp.random_base32())
    assert len(set(codes)) == 8
    enrolled = await check_password(redis, user.email, PASSWORD)
    assert enrolled is not None and enrolled.totp_secret
    assert await use_recovery_code(redis, enrolled, codes[0].upper())
    again = await check_password(redis, user.email, PASSWORD)
    assert again is not None and not await use_recovery_code(redis, again, codes[0])
    assert codes[0] not in str(await redis.get(keys.user("m_1", user.id)))


async def test_logout_everywhere_ends_every_session(redis: aioredis.Redis) -> None:
    user = await ines(redis)
    tokens = [(await open_session(redis, user, NOW, pending=False))[0] for _ in range(3)]
    assert all([await load_session(redis, t) for t in tokens])
    assert await close_all_sessions(redis, "m_1", user.id) == 3
    assert not any([await load_session(redis, t) for t in tokens])
    assert not await redis.keys("session:*")


async def test_two_logins_at_once_with_one_code_open_one_session(redis: aioredis.Redis) -> None:
    user = await ines(redis)
    secret = pyotp.random_base32()
    code = pyotp.TOTP(secret).now()
    tries = await asyncio.gather(*(check_totp(redis, user, secret, code) for _ in range(8)))
    assert sorted(tries) == [False] * 7 + [True]
