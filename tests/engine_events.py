"""Waiting, from a test's coroutine, for what a gateway's engine publishes.

The engine runs on its own thread (in virtual time, as fast as it can); a test that
needs the end of a fax or the answer of a call awaits the event that says so, rather
than asking again and again with a sleep in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class EngineEvents:
    """Every event ``engine`` publishes from now on, queued for a coroutine.

    Open it (``async with`` or ``with``) before sending the request whose outcome the
    test waits for, so nothing is missed; it unsubscribes when the block ends.
    """

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._closed = False
        self._token = engine.subscribe(self._put)

    def _put(self, event: dict[str, Any]) -> None:  # on the engine's thread
        if not self._closed:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool],
                       timeout: float = 60.0) -> dict[str, Any]:
        """The first event (from those not yet taken) that satisfies ``predicate``;
        AssertionError after ``timeout`` seconds."""
        async def first() -> dict[str, Any]:
            while True:
                event = await self._queue.get()
                if predicate(event):
                    return event

        try:
            return await asyncio.wait_for(first(), timeout)
        except TimeoutError:
            raise AssertionError(f"no matching event within {timeout} s") from None

    def close(self) -> None:
        self._closed = True
        self._engine.unsubscribe(self._token)

    def __enter__(self) -> EngineEvents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
