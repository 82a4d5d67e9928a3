"""The merchant's logo, end to end over HTTP: uploaded in Settings by an owner (multipart,
CSRF), checked and re-encoded, shown in the header of the customer's invoice pages from an
address under the page's own token, served as a bare PNG with long caching, removed. Hostile
files are refused with the reason in the page and the previous logo kept; agents, forged
forms and other merchants' pages get nothing."""

from __future__ import annotations

import io
import random
import re
from collections.abc import AsyncIterator

import aiohttp
from PIL import Image
from pypdf import PdfReader

from bot.store import keys, logos
from bot.store.users import Role
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_openapi_routes import validate
from tests.unit.test_logo_image import SCRIPT, jpeg_with_exif, png, png_declaring

SETTINGS = "/console/dashboard/settings"
LOGO_IMG = re.compile(r'<img class="logo" src="(/[ia]/[^/"]+/logo/([0-9a-f]{16})\.png)"')


async def upload(
    browser: Browser,
    data: bytes,
    *,
    filename: str = "logo.png",
    content_type: str = "image/png",
    field: str = "logo",
    csrf: str | None = None,
    language: str = "en",
) -> tuple[int, str]:
    """What a browser sends for the Settings logo form (the token first, like the form)."""
    form = aiohttp.FormData()
    form.add_field("csrf", browser.csrf if csrf is None else csrf)
    form.add_field(field, data, filename=filename, content_type=content_type)
    headers = {"Origin": browser.base_url, "Accept-Language": language}
    async with browser.session.post(
        browser.base_url + SETTINGS + "/logo", data=form, headers=headers
    ) as response:
        return response.status, await response.text()


def reason(page: str) -> str | None:
    found = re.search(r'id="e-logo" data-reason="([a-z_]+)"', page)
    return found.group(1) if found else None


async def invoice_path(facto: Facto) -> str:
    created = await facto.issue(invoice_body())
    return "/i/" + str(created["invoice_url"]).rsplit("/i/", 1)[1]


async def test_an_uploaded_logo_is_re_encoded_and_shown_on_the_invoice_pages(
    facto: Facto, owner: Browser
) -> None:
    assert facto.merchant is not None
    status, text = await owner.get(SETTINGS)
    assert status == 200 and 'id="no-logo"' in text
    # A phone photo named .png and sent as image/png: its bytes say JPEG, and a zip rides along.
    status, text = await upload(owner, jpeg_with_exif((300, 600)) + b"PK\x03\x04" + SCRIPT)
    assert status == 200 and 'id="logo-saved"' in text, text
    logo = await logos.current(facto.redis, facto.merchant.id)
    assert logo is not None and (logo.width, logo.height) == (320, 160)
    preview = f'src="{SETTINGS}/logo/{logo.version}.png"'
    assert preview in text
    response = await owner.session.get(owner.base_url + f"{SETTINGS}/logo/{logo.version}.png")
    assert response.status == 200 and await response.read() == logo.png

    page = await invoice_path(facto)
    for path in (page, page + "?paid=1"):
        response = await facto.client.get(path)
        html = await response.text()
        found = LOGO_IMG.search(html)
        assert found is not None, path
        assert found.group(1) == f"{page}/logo/{logo.version}.png"
        assert 'width="320" height="160"' in html and "style=" not in html
        assert "img-src 'self'" in response.headers["Content-Security-Policy"]

    served = await facto.client.get(f"{page}/logo/{logo.version}.png")
    body = await served.read()
    assert served.status == 200 and served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert body == logo.png and SCRIPT not in body and b"Exif" not in body
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "PNG" and image.size == (320, 160)

    assert (await facto.client.get(f"{page}/logo/{'0' * 16}.png")).status == 404
    assert (await facto.client.get(f"/i/{'x' * 32}/logo/{logo.version}.png")).status == 404


async def test_a_new_logo_replaces_the_old_one_and_removing_it_leaves_the_name_alone(
    facto: Facto, owner: Browser
) -> None:
    assert facto.merchant is not None
    await owner.get(SETTINGS)
    await upload(owner, png((800, 200)))
    first = await logos.current(facto.redis, facto.merchant.id)
    # A WebP within the size limit but above the app's 64 KB body limit for forms.
    noise = Image.frombytes("RGB", (200, 150), random.Random(7).randbytes(200 * 150 * 3))
    out = io.BytesIO()
    noise.save(out, "WEBP", lossless=True)
    assert 64 * 1024 < len(out.getvalue()) < 512 * 1024
    status, _ = await upload(owner, out.getvalue(), filename="logo", content_type="text/plain")
    assert status == 200
    second = await logos.current(facto.redis, facto.merchant.id)
    assert first is not None and second is not None and first.version != second.version
    page = await invoice_path(facto)
    assert (await facto.client.get(f"{page}/logo/{first.version}.png")).status == 404
    assert (await facto.client.get(f"{page}/logo/{second.version}.png")).status == 200

    status, text = await owner.post(SETTINGS + "/logo/remove")
    assert status == 200 and 'id="no-logo"' in text
    assert await facto.redis.get(keys.merchant_logo(facto.merchant.id)) is None
    html = await (await facto.client.get(page)).text()
    assert 'class="logo"' not in html and "Atelier" in html
    assert (await facto.client.get(f"{page}/logo/{second.version}.png")).status == 404


HOSTILE = [
    ("zero bytes", b"", "empty", 422),
    ("a text file", b"just words", "not_image", 422),
    (
        "svg with a script",
        b'<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>",
        "svg",
        422,
    ),
    ("truncated png", png()[:150], "damaged", 422),
    ("decompression bomb", png_declaring(60_000, 60_000), "dimensions", 422),
    ("huge dimensions", png_declaring(5_000, 5_000), "dimensions", 422),
    ("over 512 KB", png() + bytes(600 * 1024), "too_big", 413),
]


async def test_hostile_files_are_refused_with_the_reason_and_the_logo_is_kept(
    facto: Facto, owner: Browser
) -> None:
    assert facto.merchant is not None
    await owner.get(SETTINGS)
    await upload(owner, png((200, 100)))
    kept = await facto.redis.get(keys.merchant_logo(facto.merchant.id))
    assert kept is not None
    for what, data, why, expected in HOSTILE:
        status, text = await upload(owner, data)
        assert (status, reason(text)) == (expected, why), what
        assert await facto.redis.get(keys.merchant_logo(facto.merchant.id)) == kept, what
    # In the merchant's language: French for a French browser.
    status, text = await upload(owner, b"<svg onload=alert(1)>", language="fr")
    assert status == 422 and "SVG" in text and "exportez" in text
    # A file field under another name, and a form without any file: nothing to store.
    status, text = await upload(owner, png(), field="image")
    assert (status, reason(text)) == (422, "missing")
    status, text = await owner.post(SETTINGS + "/logo")
    assert (status, reason(text)) == (422, "missing")
    assert await facto.redis.get(keys.merchant_logo(facto.merchant.id)) == kept


async def _owner(facto: Facto, email: str, merchant_id: str | None = None) -> Browser:
    _, secret = await add_user(facto, email, "Olga", Role.OWNER, merchant_id=merchant_id)
    browser = Browser.open(facto)
    await browser.log_in(email, secret)
    await browser.get(SETTINGS)
    return browser


async def test_agents_forged_forms_and_strangers_are_refused(facto: Facto, owner: Browser) -> None:
    assert facto.merchant is not None
    _, secret = await add_user(facto, "agent@atelier.fr", "Aline")
    agent = Browser.open(facto)
    try:
        await agent.log_in("agent@atelier.fr", secret)
        await agent.get("/console")
        status, _ = await upload(agent, png())
        assert status == 403
        status, _ = await agent.post(SETTINGS + "/logo/remove")
        assert status == 403
    finally:
        await agent.close()
    await owner.get(SETTINGS)
    status, _ = await upload(owner, png(), csrf="forged")
    assert status == 403
    stranger = Browser.open(facto)
    try:
        status, _ = await upload(stranger, png(), csrf="")
        assert status == 401
    finally:
        await stranger.close()
    assert await facto.redis.get(keys.merchant_logo(facto.merchant.id)) is None
    await upload(owner, png())
    logo = await logos.current(facto.redis, facto.merchant.id)
    assert logo is not None
    status, _ = await upload(owner, png((10, 10)), csrf="forged")
    assert status == 403
    status, _ = await owner.post(SETTINGS + "/logo/remove", {"csrf": "forged"})
    assert status == 403
    assert await logos.current(facto.redis, facto.merchant.id) == logo


async def test_another_merchants_logo_is_never_shown_or_served_for_this_merchants_invoice(
    facto: Facto, owner: Browser
) -> None:
    assert facto.merchant is not None
    other, other_key = await facto.add_merchant(name="Boutique Voisine")
    other_owner = await _owner(facto, "owner@voisine.fr", merchant_id=other.id)
    try:
        await upload(other_owner, png((300, 100), mode="RGB"))
    finally:
        await other_owner.close()
    theirs = await logos.current(facto.redis, other.id)
    assert theirs is not None
    page = await invoice_path(facto)  # ours: no logo yet
    html = await (await facto.client.get(page)).text()
    assert 'class="logo"' not in html and theirs.version not in html
    assert (await facto.client.get(f"{page}/logo/{theirs.version}.png")).status == 404
    await owner.get(SETTINGS)
    await upload(owner, png((100, 100)))
    ours = await logos.current(facto.redis, facto.merchant.id)
    assert ours is not None and ours.version != theirs.version
    html = await (await facto.client.get(page)).text()
    assert f"{page}/logo/{ours.version}.png" in html and theirs.version not in html
    assert (await facto.client.get(f"{page}/logo/{theirs.version}.png")).status == 404
    # Their own invoice shows theirs.
    response = await facto.post_invoice(invoice_body(), api_key=other_key)
    their_page = "/i/" + (await response.json())["invoice_url"].rsplit("/i/", 1)[1]
    html = await (await facto.client.get(their_page)).text()
    assert f"{their_page}/logo/{theirs.version}.png" in html and ours.version not in html


def images_on_first_page(pdf: bytes) -> list[tuple[int, int]]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return [image.image.size for image in page.images if image.image is not None]


async def test_the_invoice_pdf_is_headed_by_the_logo_of_its_issue_day_and_never_changes(
    facto: Facto, owner: Browser
) -> None:
    before = await invoice_path(facto)  # issued and archived without a logo
    archived_before = await (await facto.client.get(before + "/pdf")).read()
    assert images_on_first_page(archived_before) == []
    await owner.get(SETTINGS)
    await upload(owner, png((800, 200)))
    after = await invoice_path(facto)
    pdf = await (await facto.client.get(after + "/pdf")).read()
    assert images_on_first_page(pdf) == [(400, 100)]
    # Archived as issued: the earlier invoice keeps its PDF byte for byte, and this one keeps
    # its logo after the logo is removed.
    assert await (await facto.client.get(before + "/pdf")).read() == archived_before
    await owner.post(SETTINGS + "/logo/remove")
    assert await (await facto.client.get(after + "/pdf")).read() == pdf


async def test_the_api_puts_reads_and_removes_the_logo_with_the_same_checks(
    facto: Facto,
) -> None:
    assert facto.merchant is not None
    auth = {"Authorization": f"Bearer {facto.api_key}"}
    doc = await (await facto.client.get("/api/v1/openapi.json")).json()
    response = await facto.client.get("/api/v1/logo", headers=auth)
    assert response.status == 404
    # Sent as JSON, named nothing: the bytes say PNG.
    body = png((1000, 250)) + SCRIPT
    headers = {**auth, "Content-Type": "application/json"}
    response = await facto.client.put("/api/v1/logo", data=body, headers=headers)
    described = await response.json()
    assert response.status == 200, described
    validate(doc, "/api/v1/logo", "put", 200, described)
    assert (described["width"], described["height"]) == (400, 100)
    response = await facto.client.get("/api/v1/logo", headers=auth)
    assert response.status == 200 and await response.json() == described
    validate(doc, "/api/v1/logo", "get", 200, described)
    page = await invoice_path(facto)
    assert f"{page}/logo/{described['version']}.png" in await (await facto.client.get(page)).text()

    for data, status, code in [
        (b"", 422, "empty"),
        (b'<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>", 422, "svg"),
        (png_declaring(50_000, 50_000), 422, "dimensions"),
        (png() + bytes(600 * 1024), 413, "too_big"),
    ]:
        response = await facto.client.put("/api/v1/logo", data=data, headers=auth)
        refused = await response.json()
        assert (response.status, refused.get("code")) == (status, code), refused
        validate(doc, "/api/v1/logo", "put", status, refused)

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(10):
            yield bytes(64 * 1024)

    response = await facto.client.put("/api/v1/logo", data=chunked(), headers=auth)
    assert response.status == 413
    logo = await logos.current(facto.redis, facto.merchant.id)
    assert logo is not None and logo.version == described["version"]  # kept
    response = await facto.client.put("/api/v1/logo", data=png(), headers={})
    assert response.status == 401
    response = await facto.client.delete("/api/v1/logo", headers=auth)
    assert response.status == 204
    response = await facto.client.delete("/api/v1/logo", headers=auth)
    assert response.status == 404


async def test_the_credit_note_page_shows_the_logo_too(facto: Facto, owner: Browser) -> None:
    assert facto.merchant is not None
    auth = {"Authorization": f"Bearer {facto.api_key}"}
    created = await facto.issue(invoice_body())
    await owner.get(SETTINGS)
    await upload(owner, png((400, 160)))
    logo = await logos.current(facto.redis, facto.merchant.id)
    assert logo is not None
    response = await facto.client.post(f"/api/v1/invoices/{created['id']}/void", headers=auth)
    assert response.status in (200, 202)
    await facto.drain()
    response = await facto.client.get(
        f"/api/v1/invoices/{created['id']}/credit-notes", headers=auth
    )
    [note] = (await response.json())["credit_notes"]
    page = "/a/" + str(note["credit_note_url"]).rsplit("/a/", 1)[1]
    html = await (await facto.client.get(page)).text()
    found = LOGO_IMG.search(html)
    assert found is not None and found.group(1) == f"{page}/logo/{logo.version}.png"
    served = await facto.client.get(found.group(1))
    assert served.status == 200 and await served.read() == logo.png
