"""Posting the store's webhook outbox: the retry schedule (sans-IO) and the thread that
sends.

:func:`next_try` is the schedule: a delivery not answered 2xx is tried again after 10 s,
30 s, 1, 2, 4, 8, 16, 32 minutes and then every hour, with up to 10 % random jitter
(so receivers coming back are not hit by every retry at once), for
:data:`MAX_ATTEMPTS` attempts in all (about a day), then it is ``failed`` and an admin
may send it again. A 4xx other than 408 and 429 is still retried: a receiver
misconfigured for an hour should not lose a day of results.

:class:`WebhookDispatcher` runs :meth:`~WebhookDispatcher.run_once` in a thread: fan
new events out, post what is due (one at a time, each with a timeout), record each
attempt. It shares the service's store (its methods take the store's lock per
statement, never across a request) and its clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import structlog

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store import Store
from trunkline.dialer.webhooks.signing import headers

log = structlog.get_logger("trunkline.dialer.webhooks")

#: Seconds before each retry (the last repeats).
DELAYS = (10.0, 30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 3600.0)
#: Attempts in all before a delivery is failed.
MAX_ATTEMPTS = 30
#: Seconds a receiver has to answer.
TIMEOUT = 10.0


def next_try(attempts: int, now: float, *, jitter: float = 0.0) -> float | None:
    """When to try again after ``attempts`` failed attempts (counting the one just
    made), or None when they are used up. ``jitter`` in [0, 1) stretches the delay by
    up to 10 %."""
    if attempts < 1:
        raise ValueError(f"attempts counts the failed ones so far (>= 1), not {attempts}")
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = DELAYS[min(attempts, len(DELAYS)) - 1]
    return now + delay * (1.0 + 0.1 * jitter)


class WebhookDispatcher:
    """Send the outbox of ``store`` (see the module docstring).

    ``post`` sends one request and returns the HTTP status (tests and the CLI's
    ``send`` use the default, a real HTTP client)."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time,
                 poll: float = 1.0, post: Callable[[str, bytes, dict[str, str]], int]
                 | None = None, rng: random.Random | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        #: the signature's timestamp is always the real time: the receiver compares it
        #: with its own clock (``clock`` may be a test's or a virtual one)
        self.wall = wall
        self.poll = poll
        self._client: httpx.Client | None = None
        self._post = post or self._http_post
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _http_post(self, url: str, body: bytes, head: dict[str, str]) -> int:
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        return self._client.post(url, content=body, headers=head).status_code

    def run_once(self) -> dict[str, int]:
        """Fan out, then post every delivery due now; returns counts."""
        counts = {"queued": self.store.fan_out(now=self.clock()), "delivered": 0,
                  "retry": 0, "failed": 0}
        for due in self.store.due_deliveries(now=self.clock()):
            body = due.body.encode()
            started = self.clock()
            status: int | None = None
            error = ""
            try:
                status = self._post(due.url, body, headers(
                    due.secret, int(self.wall()), body, kind=due.kind, delivery=due.id))
            except httpx.HTTPError as err:
                error = f"{type(err).__name__}: {err}"
            except OSError as err:
                error = f"{type(err).__name__}: {err}"
            now = self.clock()
            ok = status is not None and 200 <= status < 300
            if not ok and not error:
                error = f"HTTP {status}"
            retry = None if ok else next_try(due.attempts + 1, now,
                                             jitter=self._rng.random())
            self.store.record_delivery(due.id, now=now, status=status, error=error,
                                       seconds=max(0.0, now - started), delivered=ok,
                                       next_at=retry)
            key = "delivered" if ok else "retry" if retry is not None else "failed"
            counts[key] += 1
            if not ok:
                log.warning("webhook_not_delivered", webhook=due.webhook, delivery=due.id,
                            error=error, attempts=due.attempts + 1,
                            gives_up=retry is None)
        return counts

    # -- the thread ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="webhooks",
                                            daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now (a webhook added, a delivery sent again)."""
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except StoreError as err:  # a busy or full database: try again later
                log.error("webhook_outbox_error", error=str(err))
            except Exception as err:  # the thread must go on
                log.exception("webhook_dispatcher_error", error=str(err))
            self._wake.wait(self.poll)
            self._wake.clear()

    def __enter__(self) -> WebhookDispatcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
