"""Merchant users (owners and agents), their passwords, TOTP and console sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second profile); TOTP
secrets are kept to check codes (RFC 6238, 30 s steps, one step of drift); recovery codes and
session tokens are random and stored only as SHA-256 digests (they carry 80+ random bits, so a
fast digest is enough). Every record sits under its merchant's hash tag.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import pyotp
import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.exceptions import WatchError

from bot.store import keys

SESSION_TTL_SECONDS = 12 * 3600  # a working day; renewed on use
PENDING_LOGIN_TTL_SECONDS = 300  # password accepted, waiting for the TOTP code
LOGIN_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20
RECOVERY_CODES = 8
MIN_PASSWORD_LENGTH = 12
TOTP_ISSUER = "Facto"

_HASHER = PasswordHasher()


@functools.cache
def unknown_email_hash() -> str:
    """A hash to verify against when the email is unknown, so that both answers take as long.

    Made on the first login rather than at import: an argon2 hash costs tens of milliseconds
    (far more on a busy machine), and every process imports this module, the worker too."""
    return _HASHER.hash(secrets.token_hex(16))


class Role(enum.StrEnum):
    OWNER = "owner"  # everything an agent does, plus reassigning and inviting
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    merchant_id: str
    email: str
    name: str
    role: Role
    password_hash: str
    created_at: str
    totp_secret: str | None = None  # set once enrolment is confirmed
    recovery_digests: tuple[str, ...] = field(default=())
    disabled: bool = False  # an owner turned the account off: no login, no session

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    def to_json(self) -> str:
        data = asdict(self)
        data["role"] = self.role.value
        data["recovery_digests"] = list(self.recovery_digests)
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str) -> User:
        data: dict[str, Any] = json.loads(raw)
        data["role"] = Role(data["role"])
        data["recovery_digests"] = tuple(data.get("recovery_digests") or ())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user, or (`pending`) one whose password passed and whose code is due."""

    merchant_id: str
    user_id: str
    csrf: str
    created_at: str
    pending: bool = False
    enrol_secret: str | None = None  # a TOTP secret being enrolled, not yet confirmed

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> Session:
        data = json.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class UserError(ValueError):
    """A user cannot be created as asked (weak password, email taken)."""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    redis: aioredis.Redis,
    *,
    merchant_id: str,
    email: str,
    name: str,
    role: Role,
    password: str,
    now: datetime,
    totp_secret: str | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise UserError("email: not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    user = User(
        id=f"u_{secrets.token_hex(8)}",
        merchant_id=merchant_id,
        email=email,
        name=name.strip() or email,
        role=role,
        password_hash=_HASHER.hash(password),
        created_at=now.isoformat(),
        totp_secret=totp_secret,
    )
    # The email is claimed first (SET NX): two creations with one email, exactly one wins.
    if not await redis.set(keys.user_email(digest(email)), f"{merchant_id} {user.id}", nx=True):
        raise UserError("email: already used by another user")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.user(merchant_id, user.id), user.to_json())
        pipe.sadd(keys.merchant_users(merchant_id), user.id)
        await pipe.execute()
    return user


async def invite(
    redis: aioredis.Redis,
    *,
    merchant_id: str,
    email: str,
    name: str,
    role: str,
    now: datetime,
) -> tuple[User, str]:
    """An owner adds a colleague: the user and a first password, to show once (TOTP is
    enrolled at the first login). UserError says what is wrong."""
    if role not in (Role.OWNER.value, Role.AGENT.value):
        raise UserError("role: owner or agent")
    password = secrets.token_urlsafe(15)
    user = await create_user(
        redis,
        merchant_id=merchant_id,
        email=email,
        name=name[:80],
        role=Role(role),
        password=password,
        now=now,
    )
    return user, password


async def change_member(
    redis: aioredis.Redis,
    merchant_id: str,
    user_id: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
) -> User:
    """Change a colleague's role or turn their account off or on; UserError when no such
    user, or when the merchant would be left without an active owner. Checked and written
    under WATCH of every user of the merchant (one slot): two owners demoting each other at
    once cannot both win. Turning an account off closes its sessions."""
    ids = sorted(await redis.smembers(keys.merchant_users(merchant_id)))
    if user_id not in ids:
        raise UserError("user: no such user in your team")
    names = [keys.user(merchant_id, uid) for uid in ids]
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(*names)
                raws = [await pipe.get(name) for name in names]
                team = {u.id: u for u in (User.from_json(r) for r in raws if r)}
                current = team.get(user_id)
                if current is None:
                    raise UserError("user: no such user in your team")
                changed = replace(
                    current,
                    role=current.role if role is None else role,
                    disabled=current.disabled if disabled is None else disabled,
                )
                team[user_id] = changed
                if not any(u.is_owner and not u.disabled for u in team.values()):
                    raise UserError("the team needs at least one active owner")
                pipe.multi()
                pipe.set(keys.user(merchant_id, user_id), changed.to_json())
                await pipe.execute()
                break
            except WatchError:
                continue
    if changed.disabled:
        await close_all_sessions(redis, merchant_id, user_id)
    return changed


async def get_user(redis: aioredis.Redis, merchant_id: str, user_id: str) -> User | None:
    raw = await redis.get(keys.user(merchant_id, user_id))
    return User.from_json(raw) if raw else None


async def list_users(redis: aioredis.Redis, merchant_id: str) -> list[User]:
    ids = sorted(await redis.smembers(keys.merchant_users(merchant_id)))
    users = [await get_user(redis, merchant_id, user_id) for user_id in ids]
    return [u for u in users if u is not None]


async def save_user(redis: aioredis.Redis, user: User) -> None:
    await redis.set(keys.user(user.merchant_id, user.id), user.to_json())


async def check_password(redis: aioredis.Redis, email: str, password: str) -> User | None:
    """The user whose email and password these are, else None (in about the same time)."""
    located = await redis.get(keys.user_email(digest(normalise_email(email))))
    user = None
    if located:
        merchant_id, user_id = located.split(" ", 1)
        user = await get_user(redis, merchant_id, user_id)
    try:
        _HASHER.verify(user.password_hash if user else unknown_email_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return None if user is None or user.disabled else user


async def check_totp(redis: aioredis.Redis, user: User, secret: str, code: str) -> bool:
    """A current code for `secret`, never accepted twice (its time step is remembered)."""
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    now = datetime.now().timestamp()  # noqa: DTZ005 - TOTP steps are defined on Unix time
    for drift in (0, -1, 1):
        step = int(now // totp.interval) + drift
        if secrets.compare_digest(totp.generate_otp(step), code):
            # One script: two logins sending the same code at once cannot both read "unused".
            used = keys.totp_used(user.merchant_id, user.id)
            taken = await redis.eval(_TAKE_TOTP_STEP, 1, used, str(step), "300")
            return bool(taken)  # 0: replayed, a code opens one session
    return False


# KEYS: the user's last used step. ARGV: this step, TTL seconds. 1 (and remembered) when the
# step is later than the last one used, else 0.
_TAKE_TOTP_STEP = """
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1
"""


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


async def confirm_enrolment(redis: aioredis.Redis, user: User, secret: str) -> list[str]:
    """Store the enrolled secret and fresh recovery codes; returns the codes (shown once)."""
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    enrolled = replace(user, totp_secret=secret, recovery_digests=tuple(digest(c) for c in codes))
    await save_user(redis, enrolled)
    return codes


async def use_recovery_code(redis: aioredis.Redis, user: User, code: str) -> bool:
    wanted = digest(code.strip().lower())
    if wanted not in user.recovery_digests:
        return False
    left = tuple(d for d in user.recovery_digests if d != wanted)
    await save_user(redis, replace(user, recovery_digests=left))
    return True


# Sessions ---------------------------------------------------------------------------------


async def open_session(
    redis: aioredis.Redis, user: User, now: datetime, *, pending: bool
) -> tuple[str, Session]:
    """A new session token (the cookie's value) and its record."""
    token = secrets.token_urlsafe(32)
    session = Session(
        merchant_id=user.merchant_id,
        user_id=user.id,
        csrf=secrets.token_urlsafe(24),
        created_at=now.isoformat(),
        pending=pending,
    )
    ttl = PENDING_LOGIN_TTL_SECONDS if pending else SESSION_TTL_SECONDS
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(keys.session(digest(token)), session.to_json(), ex=ttl)
        if not pending:
            pipe.sadd(keys.user_sessions(user.merchant_id, user.id), digest(token))
        await pipe.execute()
    return token, session


async def load_session(redis: aioredis.Redis, token: str) -> Session | None:
    if not token or len(token) > 100:
        return None
    raw = await redis.get(keys.session(digest(token)))
    return Session.from_json(raw) if raw else None


async def update_session(redis: aioredis.Redis, token: str, session: Session) -> None:
    await redis.set(keys.session(digest(token)), session.to_json(), keepttl=True)


async def touch_session(redis: aioredis.Redis, token: str) -> None:
    await redis.expire(keys.session(digest(token)), SESSION_TTL_SECONDS)


async def close_session(redis: aioredis.Redis, token: str, session: Session) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.delete(keys.session(digest(token)))
        pipe.srem(keys.user_sessions(session.merchant_id, session.user_id), digest(token))
        await pipe.execute()


async def close_all_sessions(redis: aioredis.Redis, merchant_id: str, user_id: str) -> int:
    """Log the user out everywhere; returns how many sessions were open."""
    index = keys.user_sessions(merchant_id, user_id)
    digests = list(await redis.smembers(index))
    if digests:
        await redis.delete(*(keys.session(d) for d in digests))
    await redis.delete(index)
    return len(digests)


# Login throttling -------------------------------------------------------------------------


async def login_blocked(redis: aioredis.Redis, email: str, client: str) -> bool:
    """Too many failures lately for this email or from this address."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(keys.login_failures("email", digest(normalise_email(email))))
        pipe.get(keys.login_failures("client", digest(client)))
        by_email, by_client = await pipe.execute()
    return int(by_email or 0) >= MAX_FAILURES_PER_EMAIL or (
        int(by_client or 0) >= MAX_FAILURES_PER_CLIENT
    )


async def record_login_failure(redis: aioredis.Redis, email: str, client: str) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for key in (
            keys.login_failures("email", digest(normalise_email(email))),
            keys.login_failures("client", digest(client)),
        ):
            # The window starts at the first failure (EXPIRE NX needs Redis 7: not assumed).
            pipe.set(key, 0, nx=True, ex=LOGIN_WINDOW_SECONDS)
            pipe.incr(key)
        await pipe.execute()


async def clear_login_failures(redis: aioredis.Redis, email: str) -> None:
    await redis.delete(keys.login_failures("email", digest(normalise_email(email))))
