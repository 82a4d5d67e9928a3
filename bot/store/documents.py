"""Archived PDFs: written once (SET NX), then read back as they are, byte for byte.

No TTL: invoices and credit notes are kept for ten years (LEGAL_FR), and an erasure request
never touches them. Base64, because every Facto client decodes replies as text.
"""

from __future__ import annotations

import base64
from typing import Literal

import redis.asyncio as aioredis

from bot.store import keys

Kind = Literal["invoice", "credit-note"]


async def archived(
    redis: aioredis.Redis, merchant_id: str, kind: Kind, doc_id: str
) -> bytes | None:
    raw: str | None = await redis.get(keys.document_pdf(merchant_id, kind, doc_id))
    return decode(raw) if raw is not None else None


def decode(raw: str) -> bytes:
    """An archive as stored (base64 text) back to the PDF's bytes."""
    return base64.b64decode(raw)


async def archive(
    redis: aioredis.Redis, merchant_id: str, kind: Kind, doc_id: str, pdf: bytes
) -> bytes:
    """Keep `pdf` unless one is archived already; returns the archived one either way.

    Renders take a lock first (bot.engine.documents), so one process renders; should two
    renders still race (a renderer outliving its lock), their bytes may differ (font subset
    ids): the first stored wins and is what everyone is served from then on.
    """
    key = keys.document_pdf(merchant_id, kind, doc_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, base64.b64encode(pdf).decode(), nx=True)
        pipe.get(key)
        _, stored = await pipe.execute()
    return base64.b64decode(stored)
