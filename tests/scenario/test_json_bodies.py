"""Every API route that reads a JSON body reads it one way (bot.web.bodies): the same bad
bodies get the same precise 4xx with the same words on each, with or without an
Idempotency-Key, and nothing is created."""

from __future__ import annotations

from tests.scenario.harness import Facto

ROUTES = (
    "/api/v1/invoices",
    "/api/v1/shops",
    "/api/v1/webhook-endpoints",
    "/api/v1/channels",
    "/api/v1/campaigns",
)
JSON = "application/json"
DEEP = b"[" * 40 + b"]" * 40
# (content type, body) -> (status, the start of the error)
CASES = {
    ("application/x-www-form-urlencoded", b"a=b"): (415, "send the body as application/json"),
    (JSON, b"{not json"): (400, "malformed JSON"),
    (JSON, b'{"shop": "\xff"}'): (400, "malformed JSON"),  # not UTF-8
    (JSON, DEEP): (400, "JSON nested too deeply (more than 32 levels)"),
}
OBJECT_ONLY = {"/api/v1/shops", "/api/v1/channels"}  # any other JSON is 400 there, not 422


async def test_bad_bodies_get_the_same_answer_on_every_route(facto: Facto) -> None:
    auth = {"Authorization": f"Bearer {facto.api_key}"}
    for path in ROUTES:
        for keyed in (False, True):
            key = {"Idempotency-Key": f"bad-{path}"} if keyed else {}
            for (content_type, body), (status, words) in CASES.items():
                headers = {**auth, **key, "Content-Type": content_type}
                response = await facto.client.post(path, data=body, headers=headers)
                assert response.status == status, (path, keyed, body[:20])
                assert (await response.json())["error"].startswith(words), (path, body[:20])
        if path in OBJECT_ONLY:
            response = await facto.client.post(path, json=["a list"], headers=auth)
            assert response.status == 400
            assert (await response.json())["error"] == "the body must be a JSON object"
    for listing in ("/api/v1/shops", "/api/v1/webhook-endpoints", "/api/v1/channels"):
        response = await facto.client.get(listing, headers=auth)
        assert response.status == 200
        assert not [v for v in (await response.json()).values() if v], listing
