"""The two-step conversation of `bench/run.py`, in aiogram with its RedisStorage.

    <python with aiogram> bench/aiogram_flow.py REDIS_URL CONVERSATIONS

Runs in an interpreter that has aiogram (it pins pydantic below the version Facto uses, so it
lives in its own virtualenv: README, "Benchmarks"). Each conversation is two messages fed to
`Dispatcher.feed_update` one after the other: the first sets an FSM state and data in Redis
and answers, the second reads them, clears the state and answers. The answers are returned as
methods (aiogram's webhook-reply style), so nothing goes to the network, like Facto's
dispatch, which only writes its replies to the outbox. One more conversation goes first,
untimed, as in `bench/run.py`: both sides are measured warm. Prints {"messages": n,
"seconds": s}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from aiogram import Bot, Dispatcher, Router  # type: ignore[import-not-found]
from aiogram.filters import StateFilter  # type: ignore[import-not-found]
from aiogram.fsm.context import FSMContext  # type: ignore[import-not-found]
from aiogram.fsm.state import State, StatesGroup  # type: ignore[import-not-found]
from aiogram.fsm.storage.redis import RedisStorage  # type: ignore[import-not-found]
from aiogram.types import Message, Update  # type: ignore[import-not-found]


class Step(StatesGroup):  # type: ignore[misc]
    second = State()


router = Router()


@router.message(StateFilter(None))
async def first(message: Message, state: FSMContext) -> Any:
    await state.set_state(Step.second)
    await state.update_data(first=message.text)
    return message.answer("Bonjour ! Votre facture F-2026-0001 : 72,00 EUR. Repondez PAYER.")


@router.message(Step.second)
async def second(message: Message, state: FSMContext) -> Any:
    data = await state.get_data()
    await state.clear()
    return message.answer(f"Merci ({data.get('first')}). Voici votre lien de paiement.")


def update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Camille"},
            "from": {"id": chat, "is_bot": False, "first_name": "Camille"},
            "text": text,
        },
    }


async def main(url: str, conversations: int) -> dict[str, float]:
    storage = RedisStorage.from_url(url)
    dispatcher = Dispatcher(storage=storage)
    dispatcher.include_router(router)
    bot = Bot("123456:AAbenchmarkbenchmarkbenchmarkbenchmark")
    chats = [9_000_000_000 + n for n in range(conversations)]
    try:
        n = 0
        for text in ("bonjour", "merci"):  # one conversation untimed, as bench/run.py does
            n += 1
            parsed = Update.model_validate(update(n, 8_999_999_999, text), context={"bot": bot})
            await dispatcher.feed_update(bot, parsed)
        started = time.perf_counter()
        for chat in chats:
            for text in ("bonjour", "merci"):
                n += 1
                parsed = Update.model_validate(update(n, chat, text), context={"bot": bot})
                await dispatcher.feed_update(bot, parsed)
        seconds = time.perf_counter() - started
    finally:
        await storage.close()
        await bot.session.close()
    return {"messages": 2 * conversations, "seconds": seconds}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], int(sys.argv[2])))))
