"""Console login: email + password, then a TOTP code (enrolled with a QR code at first login).

Session cookie: random token, stored as a digest, `HttpOnly`, `SameSite=Strict`, `Path=/console`,
and `Secure` whenever PUBLIC_BASE_URL is https (the sandbox demo runs on plain http). Every
form carries the session's CSRF token (the login form, before any session: a double-submit
cookie); every state-changing request checks it, and the `Origin` header when one is sent.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup

from bot.engine import handover as engine_handover
from bot.engine.events import AgentActed
from bot.logs import log_fields
from bot.services import Services
from bot.store import handover, users
from bot.store.users import Session, User
from bot.web.app_keys import SERVICES
from bot.web.pages import visitor_locale
from flows.model import AgentKind

log = logging.getLogger(__name__)

SESSION_COOKIE = "facto_console"
LOGIN_CSRF_COOKIE = "facto_login_csrf"
COOKIE_PATH = "/console"
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
CONSOLE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONSOLE_CSP,
    # Not "no-referrer": with it a browser sends `Origin: null` on our own form posts, and the
    # origin check below needs the real one. Nothing leaves the site with a referrer.
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class Agent:
    """The logged-in user of one console request."""

    user: User
    session: Session
    token: str


def setup_console_auth(app: web.Application) -> None:
    app.router.add_get("/console/login", login_page)
    app.router.add_post("/console/login", login)
    app.router.add_get("/console/login/code", code_page)
    app.router.add_post("/console/login/code", code)
    app.router.add_get("/console/enrol", enrol_page)
    app.router.add_post("/console/enrol", enrol)
    app.router.add_post("/console/logout", logout)
    app.router.add_post("/console/logout-everywhere", logout_everywhere)


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    services = request.app[SERVICES]
    # The browser's language (Accept-Language), else French: staff read the console in theirs.
    env = services.languages.html(visitor_locale(request))
    html = env.get_template(f"console/{template}").render(**context)
    return web.Response(
        text=html, status=status, content_type="text/html", headers=CONSOLE_HEADERS
    )


def _secure(services: Services) -> bool:
    return services.settings.public_base_url.startswith("https://")


def _set_cookie(
    response: web.StreamResponse, services: Services, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        max_age=max_age,
        httponly=True,
        samesite="Strict",
        secure=_secure(services),
    )


def redirect(location: str) -> web.Response:
    """A 303 to `location` that can carry cookies (returning an HTTPException is deprecated)."""
    return web.Response(status=303, headers={"Location": location, **CONSOLE_HEADERS})


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


def same_origin(request: web.Request) -> bool:
    """A browser's state-changing request must come from our own pages."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None  # no Origin (old browsers, curl): the CSRF token decides
    return origin == request.app[SERVICES].settings.public_base_url


async def current_agent(request: web.Request) -> Agent | None:
    services = request.app[SERVICES]
    token = request.cookies.get(SESSION_COOKIE, "")
    session = await users.load_session(services.redis, token)
    if session is None or session.pending:
        return None
    user = await users.get_user(services.redis, session.merchant_id, session.user_id)
    if user is None or user.disabled:
        return None
    await users.touch_session(services.redis, token)
    return Agent(user, session, token)


Handler = Callable[[web.Request, Agent], Awaitable[web.StreamResponse]]


class OwnersOnly(web.HTTPForbidden):
    """An agent on one of the owners' pages (the dashboard, Settings): `page` and `action`
    answer with a page in their language that leads to their own work; the plain text is only
    for a handler outside them."""

    def __init__(self) -> None:
        super().__init__(text="for the merchant's owners", headers=CONSOLE_HEADERS)


def owner_only(agent: Agent) -> None:
    if not agent.user.is_owner:
        raise OwnersOnly


def _owners_only(request: web.Request, agent: Agent) -> web.Response:
    return render(
        request, "owners_only.html", status=403, agent=agent.user, csrf=agent.session.csrf
    )


def page(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A console page: logged in, else to the login page."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        agent = await current_agent(request)
        if agent is None:
            raise web.HTTPSeeOther("/console/login")
        try:
            return await handler(request, agent)
        except OwnersOnly:
            return _owners_only(request, agent)

    return wrapped


def action(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A console action (POST): logged in, same origin, and the session's CSRF token."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        agent = await current_agent(request)
        if agent is None:
            raise web.HTTPUnauthorized(text="log in again")
        form = await request.post()
        sent = str(form.get("csrf") or request.headers.get("X-CSRF-Token") or "")
        if not same_origin(request) or not secrets.compare_digest(sent, agent.session.csrf):
            raise web.HTTPForbidden(text="invalid or missing CSRF token: reload the page")
        try:
            return await handler(request, agent)
        except OwnersOnly:
            return _owners_only(request, agent)

    return wrapped


# Login --------------------------------------------------------------------------------------


async def login_page(request: web.Request, error: str | None = None) -> web.Response:
    services = request.app[SERVICES]
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", csrf=token, error=error, status=400 if error else 200)
    _set_cookie(response, services, LOGIN_CSRF_COOKIE, token, 3600)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    form = await request.post()
    sent = str(form.get("csrf") or "")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not same_origin(request) or not cookie or not secrets.compare_digest(sent, cookie):
        return await login_page(request, "The form expired: please try again.")
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    if not email or not password or len(password) > 1024:
        return await login_page(request, "Enter your email and password.")
    if await users.login_blocked(services.redis, email, _client(request)):
        response = render(
            request,
            "login.html",
            csrf=sent,
            error="Too many failed attempts: wait 15 minutes and try again.",
            status=429,
        )
        response.headers["Retry-After"] = str(users.LOGIN_WINDOW_SECONDS)
        return response
    user = await users.check_password(services.redis, email, password)
    if user is None:
        await users.record_login_failure(services.redis, email, _client(request))
        log.info("console login refused", extra=log_fields(reason="password"))
        return await login_page(request, "Wrong email or password.")
    token, _ = await users.open_session(services.redis, user, services.clock.now(), pending=True)
    target = "/console/login/code" if user.totp_secret else "/console/enrol"
    response = redirect(target)
    _set_cookie(response, services, SESSION_COOKIE, token, users.PENDING_LOGIN_TTL_SECONDS)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


async def _pending(request: web.Request) -> tuple[str, Session, User] | None:
    services = request.app[SERVICES]
    token = request.cookies.get(SESSION_COOKIE, "")
    session = await users.load_session(services.redis, token)
    if session is None or not session.pending:
        return None
    user = await users.get_user(services.redis, session.merchant_id, session.user_id)
    return (token, session, user) if user else None


async def code_page(request: web.Request) -> web.StreamResponse:
    pending = await _pending(request)
    if pending is None:
        raise web.HTTPSeeOther("/console/login")
    return render(request, "code.html", csrf=pending[1].csrf, error=None)


async def code(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    pending = await _pending(request)
    if pending is None:
        raise web.HTTPSeeOther("/console/login")
    token, session, user = pending
    form = await request.post()
    if not same_origin(request) or not secrets.compare_digest(
        str(form.get("csrf") or ""), session.csrf
    ):
        raise web.HTTPForbidden(text="invalid or missing CSRF token: reload the page")
    if await users.login_blocked(services.redis, user.email, _client(request)):
        return render(
            request,
            "code.html",
            csrf=session.csrf,
            status=429,
            error="Too many failed attempts: wait 15 minutes and try again.",
        )
    entered = str(form.get("code") or "")
    ok = bool(user.totp_secret) and await users.check_totp(
        services.redis, user, user.totp_secret or "", entered
    )
    if not ok and "-" in entered:
        ok = await users.use_recovery_code(services.redis, user, entered)
    if not ok:
        await users.record_login_failure(services.redis, user.email, _client(request))
        return render(
            request,
            "code.html",
            csrf=session.csrf,
            status=400,
            error="That code is not valid. Use the current code of your authenticator app.",
        )
    await users.close_session(services.redis, token, session)
    return await _logged_in(request, user)


async def _logged_in(request: web.Request, user: User) -> web.StreamResponse:
    services = request.app[SERVICES]
    await users.clear_login_failures(services.redis, user.email)
    token, _ = await users.open_session(services.redis, user, services.clock.now(), pending=False)
    log.info("console login", extra=log_fields(user=user.id, merchant=user.merchant_id))
    response = redirect("/console")
    _set_cookie(response, services, SESSION_COOKIE, token, users.SESSION_TTL_SECONDS)
    return response


async def enrol_page(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    pending = await _pending(request)
    if pending is None:
        raise web.HTTPSeeOther("/console/login")
    token, session, user = pending
    if user.totp_secret:
        raise web.HTTPSeeOther("/console/login/code")
    secret = session.enrol_secret or users.new_totp_secret()
    if session.enrol_secret is None:
        await users.update_session(services.redis, token, replace(session, enrol_secret=secret))
    return _enrol(request, session, user, secret, None)


def _enrol(
    request: web.Request, session: Session, user: User, secret: str, error: str | None
) -> web.Response:
    uri = users.provisioning_uri(user, secret)
    # segno writes the SVG itself from the URI: nothing from the request is in it.
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=4, title="TOTP"))  # noqa: S704
    return render(
        request,
        "enrol.html",
        csrf=session.csrf,
        qr=qr,
        secret=secret,
        error=error,
        status=400 if error else 200,
    )


async def enrol(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    pending = await _pending(request)
    if pending is None:
        raise web.HTTPSeeOther("/console/login")
    token, session, user = pending
    form = await request.post()
    if not same_origin(request) or not secrets.compare_digest(
        str(form.get("csrf") or ""), session.csrf
    ):
        raise web.HTTPForbidden(text="invalid or missing CSRF token: reload the page")
    secret = session.enrol_secret
    if secret is None or user.totp_secret:
        raise web.HTTPSeeOther("/console/login")
    if not await users.check_totp(services.redis, user, secret, str(form.get("code") or "")):
        return _enrol(request, session, user, secret, "That code is not valid: try the next one.")
    codes = await users.confirm_enrolment(services.redis, user, secret)
    await users.close_session(services.redis, token, session)
    response = await _logged_in(request, user)
    # Shown once: the recovery codes page, with the new session's cookie already set.
    shown = render(request, "recovery.html", codes=codes)
    for name, morsel in response.cookies.items():
        shown.cookies[name] = morsel
    return shown


# Logout -------------------------------------------------------------------------------------


async def release_all(services: Services, agent: Agent) -> int:
    """Give back every conversation the user holds (logout): each one waits again."""
    merchant_id, user_id = agent.user.merchant_id, agent.user.id
    released = 0
    for conversation in await handover.held_by(services.redis, merchant_id, user_id):
        if await handover.release(services.redis, merchant_id, conversation, user_id):
            acted = AgentActed(
                AgentKind.RELEASE, merchant_id, agent_id=user_id, agent_name=agent.user.name
            )
            await engine_handover.submit(services.redis, conversation, acted)
            released += 1
    return released


@action
async def logout(request: web.Request, agent: Agent) -> web.StreamResponse:
    services = request.app[SERVICES]
    await release_all(services, agent)
    await users.close_session(services.redis, agent.token, agent.session)
    response = redirect("/console/login")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


@action
async def logout_everywhere(request: web.Request, agent: Agent) -> web.StreamResponse:
    services = request.app[SERVICES]
    await release_all(services, agent)
    closed = await users.close_all_sessions(services.redis, agent.user.merchant_id, agent.user.id)
    log.info("console logout everywhere", extra=log_fields(user=agent.user.id, sessions=closed))
    response = redirect("/console/login")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
