"""Durable campaign state in SQLite: contacts, attempts (call records), DNC, counters.

The rule (DESIGN.md principle 5; issue 7 item 1): **every state change is durable before
it is acted on.** A contact is handed out only by a committed transaction that marks it
``dialing`` and writes an *attempt* row; the runner marks the attempt ``dialing`` (another
commit, which re-checks the DNC lists) *before* it sends the originate; an outcome, the
abandon counters and the next-call time are committed in one transaction before the
runner does anything that depends on them. Hence after a crash or ``kill -9``:

- an attempt still ``claimed`` was never sent to the gateway: :meth:`Store.recover`
  releases it, and the contact is due again as it was;
- an attempt still ``dialing`` may or may not have reached the network:
  :meth:`Store.reconcile` asks the caller (who asks the gateway) and otherwise records it
  as ``error`` with the strategy's retry delay, so the contact is never dialled twice in a
  row and never early;
- outcomes and abandon counters that were committed are all there (WAL with
  ``synchronous=FULL``: a committed transaction survives a process crash and power loss).

Attempt states::

    claimed --mark_dialing--> dialing --record_outcome--> done
       |                         |
       +--release (deferred)     +--reconcile after a crash--> done (error / gateway's outcome)
       v
    released

Agent sessions (schema 3) record each login to logout, committed as they happen, for the
occupancy of the reports; a crashed runner's open sessions are closed at restart by
:meth:`Store.close_stale_sessions`. Pause time and its reasons are in the agent state
log (schema 5, :mod:`~trunkline.dialer.store.desk`).

Times are epoch seconds (UTC floats) supplied by the caller; the store reads no clock.

One :class:`Store` offers all of it; each part is a module of its own:

- :mod:`~trunkline.dialer.store.schema`: the migrations (``PRAGMA user_version``); a
  database written by a newer trunkline is refused rather than misread;
- :mod:`~trunkline.dialer.store.database`: the connection, transactions (and deferred
  commits: a runner's step commits its writes together before it acts on them),
  campaigns;
- :mod:`~trunkline.dialer.store.contacts`: lists and contacts;
- :mod:`~trunkline.dialer.store.dnc`: the do-not-call lists;
- :mod:`~trunkline.dialer.store.claims`: handing out contacts, up to the originate;
- :mod:`~trunkline.dialer.store.outcomes`: answers, outcomes, callbacks;
- :mod:`~trunkline.dialer.store.counters`: abandon counters and hour-of-week statistics;
- :mod:`~trunkline.dialer.store.recovery`: settling what a crash left open;
- :mod:`~trunkline.dialer.store.sessions`: agent sessions;
- :mod:`~trunkline.dialer.store.cleaning`: list cleaning's verdicts;
- :mod:`~trunkline.dialer.store.desk`: the agent desk's dispositions, state log (pause
  codes and pause time), settings, screen-pop cards and manual dials;
- :mod:`~trunkline.dialer.store.sms`: SMS sent to contacts with a disposition (schema 6);
- :mod:`~trunkline.dialer.store.users`: the service's users (schema 4);
- :mod:`~trunkline.dialer.store.audit`: the audit log of what users did (schema 4);
- :mod:`~trunkline.dialer.store.websessions`: the service's web sessions, by a hash of
  their id, kept across restarts (schema 8);
- :mod:`~trunkline.dialer.store.assignments`: which campaigns each user may log in to at
  the desk, and at which level (schema 8);
- :mod:`~trunkline.dialer.store.views`: calls and contacts as a user may see them;
- :mod:`~trunkline.dialer.store.recordings`: each call's recording with its tags, QA
  forms and scores (schema 9);
- :mod:`~trunkline.dialer.store.tokens`: API tokens of machine clients (schema 9);
- :mod:`~trunkline.dialer.store.webhooks`: webhooks and their durable outbox (schema 9);
- :mod:`~trunkline.dialer.store.archive`: campaigns archived and lists removed, their
  history kept (schema 13);
- :mod:`~trunkline.dialer.store.provider`: :class:`StoreContacts`, the engine's contact
  provider, which persists the engine's output before it is carried out.
"""

from __future__ import annotations

from trunkline.dialer.errors import StoreError as StoreError
from trunkline.dialer.store.archive import Archive
from trunkline.dialer.store.assignments import Assignment as Assignment
from trunkline.dialer.store.assignments import Assignments
from trunkline.dialer.store.audit import AuditEntry as AuditEntry
from trunkline.dialer.store.audit import AuditLog
from trunkline.dialer.store.claims import Claim as Claim
from trunkline.dialer.store.cleaning import CleaningRecords
from trunkline.dialer.store.contacts import Contacts
from trunkline.dialer.store.contacts import NewContact as NewContact
from trunkline.dialer.store.counters import Counters
from trunkline.dialer.store.desk import DeskRecords
from trunkline.dialer.store.dnc import GLOBAL as GLOBAL
from trunkline.dialer.store.dnc import DncLists
from trunkline.dialer.store.provider import StoreContacts as StoreContacts
from trunkline.dialer.store.recordings import Recordings
from trunkline.dialer.store.recovery import InFlight as InFlight
from trunkline.dialer.store.recovery import Recovery
from trunkline.dialer.store.recovery import Resolution as Resolution
from trunkline.dialer.store.schema import MIGRATIONS as MIGRATIONS
from trunkline.dialer.store.schema import SCHEMA_VERSION as SCHEMA_VERSION
from trunkline.dialer.store.schema import migrate as migrate
from trunkline.dialer.store.sessions import AgentSessions
from trunkline.dialer.store.sms import SmsRecords
from trunkline.dialer.store.tokens import ApiTokens
from trunkline.dialer.store.users import ROLES as ROLES
from trunkline.dialer.store.users import User as User
from trunkline.dialer.store.users import Users
from trunkline.dialer.store.views import Viewer as Viewer
from trunkline.dialer.store.views import Views
from trunkline.dialer.store.webhooks import Webhooks
from trunkline.dialer.store.websessions import WebSessionRecords


class Store(Recovery, CleaningRecords, DeskRecords, SmsRecords, AgentSessions, Counters,
            DncLists, Contacts, Users, AuditLog, Views, WebSessionRecords, Assignments,
            Recordings, ApiTokens, Webhooks, Archive):
    """The campaign database. One connection, used from one thread at a time.

    ``path`` may be ``":memory:"`` for tests. Several processes may share a file: every
    write is a ``BEGIN IMMEDIATE`` transaction, so two dialers never claim one contact.
    Each base class is one part of the database (see the package docstring); they share
    the connection and the campaigns of :class:`~trunkline.dialer.store.database.Database`
    (claims and outcomes come through :class:`~trunkline.dialer.store.recovery.Recovery`).
    """


__all__ = [
    "GLOBAL",
    "MIGRATIONS",
    "ROLES",
    "SCHEMA_VERSION",
    "Assignment",
    "AuditEntry",
    "Claim",
    "InFlight",
    "NewContact",
    "Resolution",
    "Store",
    "StoreContacts",
    "StoreError",
    "User",
    "Viewer",
    "migrate",
]
