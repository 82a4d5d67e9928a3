"""Building blocks of the OpenAPI document (bot.web.openapi): references, answers,
parameters, and the error answers every route shares."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def path_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }


NULLABLE_STRING = {"type": ["string", "null"]}
DATE = {"type": "string", "format": "date"}
ERRORS = {
    "401": answer(ref("Error"), "Missing or invalid API key"),
    "404": answer(ref("Error"), "No such object (or another merchant's)"),
    "422": answer(ref("Error"), "Invalid query: `fields` names each problem"),
}
RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}


def get_op(summary: str, ok: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {"200": answer(ok, "OK"), **ERRORS},
        }
    }


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(props), "properties": props}


# --- Collection policy, invoices in, own senders, and the rest of /api/v1 -----------------


INVOICE_ID = [path_param("invoice_id")]
