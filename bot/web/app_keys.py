"""Typed keys for what the web application keeps (no globals)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.engine.spool import InboundSpool, SpoolReplayer
from bot.services import Services
from bot.store.sender_routes import SenderRoutes

SERVICES = web.AppKey("services", Services)
BACKGROUND = web.AppKey("background_tasks", set[asyncio.Future[object]])
SPOOL = web.AppKey("inbound_spool", InboundSpool)
SPOOL_REPLAYER = web.AppKey("spool_replayer", SpoolReplayer)
SENDER_ROUTES = web.AppKey("sender_routes", SenderRoutes)
