"""Every dialer call recorded for quality review (issue 18 item 3), unless the campaign
says ``record_calls = false``.

When the runner puts a customer through to an agent it asks the gateway to record the
customer's call (``recording.start``, reason ``policy``; stereo: the customer left, what
we sent, the agent, right) tagged with the campaign, the agent and the number, and
writes a ``call_recording`` row to the store with the path the gateway gave, the attempt
and the agent; the gateway's ``recording.finished`` completes it with the duration.
Recording from the connect, not the answer: quality review is of the agent's
conversation, and the seconds before (AMD listening) are no one's.

A recording the gateway refuses (its disk full, the call gone meanwhile) does not stop
the call: it is logged and counted, and the call goes on unrecorded. Recordings a stopped
run never heard the end of are settled when the next runner of that gateway starts, from
the files themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import structlog

from trunkline.dialer.errors import StoreError
from trunkline.dialer.review import wavfile
from trunkline.dialer.runner.gateway import REQUEST_FAILED
from trunkline.dialer.store import Store

log = structlog.get_logger("trunkline.dialer.runner.recording")


class CallRecording:
    """Start and finish the recordings of one runner's calls (see the module docstring).

    ``wanted(campaign)`` says whether a campaign's calls are recorded."""

    def __init__(self, store: Store, gateway: Any, wanted: Callable[[str], bool]) -> None:
        self.store = store
        self.gateway = gateway
        self.wanted = wanted
        self.gateway_name = str(getattr(gateway, "name", ""))
        self.open: set[int] = set()      # gateway call ids being recorded by us
        self.started = 0
        self.failed = 0
        self.settled = self._settle_previous()

    def _settle_previous(self) -> int:
        """Recordings a previous run of this gateway left marked ``recording`` (it was
        stopped before the gateway said they ended): a finished file is complete with the
        duration its header gives; one still being written (``.part``, the gateway still
        records the call) is left for later; a file gone is marked failed."""
        settled = 0
        try:
            rows = self.store.open_recordings(self.gateway_name)
        except StoreError as err:
            log.error("recordings_not_settled", error=str(err))
            return 0
        for recording, path in rows:
            final = Path(path)
            if final.with_name(final.name + ".part").exists():
                continue
            try:
                duration: float | None = round(wavfile.info(final).duration, 3)
                error = None
            except (OSError, wavfile.WavError) as err:
                duration, error = None, f"not finished when the runner stopped: {err}"
            self.store.settle_recording(recording, duration=duration, error=error)
            settled += 1
        return settled

    def connected(self, *, gw: int, campaign: str, attempt: int | None, agent: str,
                  number: str, now: float) -> None:
        """The customer call ``gw`` was put through to ``agent``: record it."""
        if not self.wanted(campaign) or gw in self.open:
            return
        record = getattr(self.gateway, "record", None)
        if record is None:  # a port without recordings (a test's scripted gateway)
            return
        try:
            reply = record(gw, campaign=campaign, agent_id=agent, agent_name=agent,
                           customer=number)
        except REQUEST_FAILED as err:   # a slow gateway too: unrecorded, on
            self.failed += 1
            log.warning("recording_refused", call=gw, campaign=campaign, error=str(err))
            return
        path = str(reply.get("recording") or "")
        try:
            self.store.add_call_recording(campaign=campaign, call_ref=str(gw), path=path,
                                          started_at=now, attempt=attempt, agent=agent,
                                          number=number, gateway=self.gateway_name)
        except StoreError as err:
            self.failed += 1
            log.error("recording_not_stored", call=gw, path=path, error=str(err))
            return
        self.open.add(gw)
        self.started += 1

    def on_event(self, event: Mapping[str, Any]) -> bool:
        """``recording.finished`` of one of ours: the row is completed. True when the
        event was a recording's (the runner has nothing else to do with it)."""
        if event.get("event") != "recording.finished":
            return False
        gw = event.get("call")
        if not isinstance(gw, int) or gw not in self.open:
            return True
        self.open.discard(gw)
        duration = event.get("duration")
        try:
            self.store.finish_call_recording(
                gateway=self.gateway_name, call_ref=str(gw), path=str(event.get("path", "")),
                duration=float(duration) if isinstance(duration, int | float) else None,
                error=event.get("error"))
        except StoreError as err:
            log.error("recording_not_finished", call=gw, error=str(err))
        return True
