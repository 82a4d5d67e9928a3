"""The OpenAPI document's merchant lists (bot.web.api_lists): customers, campaigns, payments
and credit notes, paged like the invoices."""

from __future__ import annotations

from typing import Any

from bot.web.openapi_parts import NULLABLE_STRING, get_op, query, ref

ANY_OBJECT: dict[str, Any] = {"type": "object"}
LIMIT = query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size")
CURSOR = query("cursor", {"type": "string"}, "next_cursor of the previous page")


def _page(name: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name, "next_cursor"],
        "properties": {
            name: {"type": "array", "items": item},
            "next_cursor": {
                **NULLABLE_STRING,
                "description": "pass as `cursor` for the next page; null on the last",
            },
        },
    }


def _payment() -> dict[str, Any]:
    return {"allOf": [ref("Payment"), {"type": "object", "required": ["invoice_id"]}]}


def list_paths(states: tuple[str, ...]) -> dict[str, Any]:
    """GET operations to merge into the paths (some paths also have a POST)."""
    return {
        "/api/v1/customers": get_op(
            "The merchant's customers, by id", _page("customers", ANY_OBJECT), [LIMIT, CURSOR]
        ),
        "/api/v1/campaigns": get_op(
            "The merchant's campaigns, newest first",
            _page("campaigns", ANY_OBJECT),
            [query("state", {"enum": list(states)}, "only this state"), LIMIT, CURSOR],
        ),
        "/api/v1/payments": get_op(
            "Payments of the merchant's invoices, newest invoice first (a page ends with "
            "the invoice that filled it)",
            _page("payments", _payment()),
            [
                query("review", {"enum": ["true", "false"]}, "only those to review (or not)"),
                LIMIT,
                CURSOR,
            ],
        ),
        "/api/v1/credit-notes": get_op(
            "Credit notes of the merchant's invoices, newest invoice first",
            _page("credit_notes", ref("CreditNote")),
            [LIMIT, CURSOR],
        ),
    }


def merged(paths: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """`paths` with `more`'s operations added, path by path."""
    out = dict(paths)
    for path, operations in more.items():
        out[path] = {**out.get(path, {}), **operations}
    return out
