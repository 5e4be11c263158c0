"""The campaign database's schema: migrations applied in order, one version each.

Schema versions are applied in order by :func:`migrate` (``PRAGMA user_version``); a
database written by a newer trunkline is refused rather than misread. Never edit a
released step: add a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from trunkline.dialer.errors import StoreError

#: Schema migrations, applied in order; index + 1 is the schema version they produce.
#: Never edit a released step: add a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: campaigns, lists, contacts, attempts, callbacks, DNC, abandon windows
    """
    CREATE TABLE campaign (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        strategy TEXT NOT NULL DEFAULT '{}',
        config TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL
    );
    CREATE TABLE list (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        name TEXT NOT NULL,
        source TEXT,
        imported_at REAL NOT NULL,
        rows_total INTEGER NOT NULL DEFAULT 0,
        rows_ok INTEGER NOT NULL DEFAULT 0,
        rows_bad INTEGER NOT NULL DEFAULT 0,
        rows_merged INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE contact (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        number TEXT NOT NULL,
        time_zone TEXT,
        fields TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL DEFAULT 'ready'
            CHECK (state IN ('ready', 'dialing', 'done', 'dnc')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL DEFAULT 0,
        lockout_until REAL NOT NULL DEFAULT 0,
        callback_agent TEXT,
        last_outcome TEXT,
        last_at REAL,
        priority INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        UNIQUE (campaign_id, number)
    );
    CREATE INDEX contact_due ON contact (campaign_id, state, priority, next_at);
    CREATE INDEX contact_number ON contact (number);
    CREATE TABLE contact_list (
        contact_id INTEGER NOT NULL REFERENCES contact(id),
        list_id INTEGER NOT NULL REFERENCES list(id),
        line INTEGER NOT NULL,
        PRIMARY KEY (contact_id, list_id)
    );
    CREATE TABLE import_error (
        list_id INTEGER NOT NULL REFERENCES list(id),
        line INTEGER NOT NULL,
        reason TEXT NOT NULL,
        raw TEXT NOT NULL
    );
    CREATE TABLE attempt (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contact(id),
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        number TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('claimed', 'dialing', 'done', 'released')),
        claimed_at REAL NOT NULL,
        dialed_at REAL,
        answered_at REAL,
        ended_at REAL,
        outcome TEXT,
        cause INTEGER,
        agent TEXT,
        call_ref TEXT,
        local_how INTEGER,
        talk REAL,
        wrap REAL,
        note TEXT
    );
    CREATE INDEX attempt_open ON attempt (state) WHERE state IN ('claimed', 'dialing');
    CREATE INDEX attempt_contact ON attempt (contact_id, claimed_at);
    CREATE INDEX attempt_campaign ON attempt (campaign_id, ended_at);
    CREATE TABLE callback (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contact(id),
        due_at REAL NOT NULL,
        agent TEXT,
        created_by TEXT,
        note TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'taken')),
        created_at REAL NOT NULL
    );
    CREATE TABLE dnc (
        scope TEXT NOT NULL,
        number TEXT NOT NULL,
        prefix INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL DEFAULT 'dnc',
        source TEXT,
        added_at REAL NOT NULL,
        PRIMARY KEY (scope, number, prefix)
    );
    CREATE TABLE abandon_window (
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        window INTEGER NOT NULL,
        live REAL NOT NULL DEFAULT 0,
        abandoned REAL NOT NULL DEFAULT 0,
        machines REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (campaign_id, window)
    );
    """,
    # 2: preview records (shown to an agent first, even inside an automatic campaign)
    """
    ALTER TABLE contact ADD COLUMN preview INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: agent sessions (logged-in time, the denominator of occupancy in the reports)
    """
    CREATE TABLE agent_session (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        campaigns TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        ended_how TEXT,
        CHECK ((ended_at IS NULL) = (ended_how IS NULL)),
        CHECK (ended_at IS NULL OR ended_at >= started_at)
    );
    CREATE INDEX agent_session_time ON agent_session (started_at, ended_at);
    CREATE INDEX agent_session_open ON agent_session (agent) WHERE ended_at IS NULL;
    """,
    # 4: users of the service (web logins) and the audit log of what they did
    """
    CREATE TABLE user (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at REAL NOT NULL,
        changed_at REAL NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        user TEXT,
        action TEXT NOT NULL,
        target TEXT,
        details TEXT NOT NULL DEFAULT '{}',
        remote TEXT
    );
    CREATE INDEX audit_time ON audit (ts);
    CREATE INDEX audit_user ON audit (user, ts);
    """,
    # 5: the agent desk: dispositions, agent state log (pause codes and pause time for the
    # reports), desk settings per campaign and the site's pause codes
    """
    CREATE TABLE disposition (
        id INTEGER PRIMARY KEY,
        attempt_id INTEGER REFERENCES attempt(id),
        contact_id INTEGER NOT NULL REFERENCES contact(id),
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        agent TEXT NOT NULL,
        code TEXT NOT NULL,
        fields TEXT NOT NULL DEFAULT '{}',
        notes TEXT NOT NULL DEFAULT '',
        automatic INTEGER NOT NULL DEFAULT 0 CHECK (automatic IN (0, 1)),
        at REAL NOT NULL
    );
    CREATE UNIQUE INDEX disposition_attempt ON disposition (attempt_id)
        WHERE attempt_id IS NOT NULL;
    CREATE INDEX disposition_contact ON disposition (contact_id, at);
    CREATE INDEX disposition_campaign ON disposition (campaign_id, at);
    CREATE TABLE agent_state (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        since REAL NOT NULL,
        until REAL NOT NULL,
        CHECK (until >= since)
    );
    CREATE INDEX agent_state_time ON agent_state (since, until);
    CREATE INDEX agent_state_agent ON agent_state (agent, since);
    CREATE TABLE desk_config (
        campaign_id INTEGER PRIMARY KEY REFERENCES campaign(id),
        config TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE pause_code (
        code TEXT PRIMARY KEY,
        label TEXT NOT NULL DEFAULT '',
        limit_seconds REAL
    );
    ALTER TABLE callback ADD COLUMN campaign_id INTEGER REFERENCES campaign(id);
    """,
    # 6: SMS a disposition sent (a collections reminder), recorded against the contact;
    # sms_id is the gateway's message id (NULL when the gateway refused it)
    """
    CREATE TABLE contact_sms (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contact(id),
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        attempt_id INTEGER REFERENCES attempt(id),
        disposition_id INTEGER REFERENCES disposition(id),
        number TEXT NOT NULL,
        text TEXT NOT NULL,
        sms_id INTEGER,
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'sent', 'delivered', 'failed')),
        reason TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX contact_sms_contact ON contact_sms (contact_id, created_at);
    CREATE INDEX contact_sms_gateway ON contact_sms (sms_id);
    CREATE INDEX contact_sms_campaign ON contact_sms (campaign_id, state);
    """,
    # 7: which gateway sent each SMS (its ids are its own: the dialer service may run
    # campaigns on several gateways over one database)
    """
    ALTER TABLE contact_sms ADD COLUMN gateway TEXT NOT NULL DEFAULT '';
    CREATE INDEX contact_sms_gateway_sms ON contact_sms (gateway, sms_id);
    """,
    # 8: web sessions kept across restarts of the service (only a SHA-256 of the session
    # id is stored: a copy of the database opens no session), and which campaigns each
    # user may log in to at the desk, at which level
    """
    CREATE TABLE web_session (
        id_hash TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at REAL NOT NULL,
        last_seen REAL NOT NULL
    );
    CREATE INDEX web_session_user ON web_session (user);
    CREATE TABLE user_campaign (
        user_id INTEGER NOT NULL REFERENCES user(id),
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        level TEXT NOT NULL DEFAULT 'standard'
            CHECK (level IN ('high', 'standard', 'overflow')),
        assigned_at REAL NOT NULL,
        PRIMARY KEY (user_id, campaign_id)
    );
    """,
    # 9: quality review and machine clients: the dialer's own record of each call's
    # recording (tags kept here, where dispositions are), QA forms and scores, API tokens
    # (only a SHA-256 of the token is stored), webhooks with a durable outbox: triggers
    # queue an event in the same transaction that saves a disposition or a call's result,
    # so nothing is lost however the process ends (and nothing is queued without a webhook)
    """
    CREATE TABLE call_recording (
        id INTEGER PRIMARY KEY,
        attempt_id INTEGER REFERENCES attempt(id),
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        contact_id INTEGER REFERENCES contact(id),
        agent TEXT NOT NULL DEFAULT '',
        number TEXT NOT NULL DEFAULT '',
        gateway TEXT NOT NULL DEFAULT '',
        call_ref TEXT NOT NULL,
        path TEXT NOT NULL,
        started_at REAL NOT NULL,
        duration REAL,
        state TEXT NOT NULL DEFAULT 'recording'
            CHECK (state IN ('recording', 'complete', 'failed')),
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX call_recording_time ON call_recording (started_at);
    CREATE INDEX call_recording_agent ON call_recording (agent, started_at);
    CREATE INDEX call_recording_campaign ON call_recording (campaign_id, started_at);
    CREATE INDEX call_recording_number ON call_recording (number);
    CREATE INDEX call_recording_call ON call_recording (gateway, call_ref);
    CREATE INDEX call_recording_attempt ON call_recording (attempt_id);
    CREATE TABLE qa_form (
        campaign_id INTEGER PRIMARY KEY REFERENCES campaign(id),
        form TEXT NOT NULL,
        updated_at REAL NOT NULL,
        updated_by TEXT
    );
    CREATE TABLE qa_score (
        id INTEGER PRIMARY KEY,
        recording_id INTEGER NOT NULL REFERENCES call_recording(id),
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        agent TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        form TEXT NOT NULL,
        items TEXT NOT NULL,
        score REAL NOT NULL CHECK (score >= 0 AND score <= 100),
        comments TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    CREATE INDEX qa_score_recording ON qa_score (recording_id, at);
    CREATE INDEX qa_score_agent ON qa_score (agent, at);
    CREATE INDEX qa_score_campaign ON qa_score (campaign_id, at);
    CREATE TABLE api_token (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        user TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
        token_hash TEXT NOT NULL UNIQUE,
        created_by TEXT,
        created_at REAL NOT NULL,
        expires_at REAL,
        last_used_at REAL,
        revoked_at REAL
    );
    CREATE TABLE webhook (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        created_by TEXT,
        created_at REAL NOT NULL,
        changed_at REAL NOT NULL
    );
    CREATE TABLE webhook_event (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        ref_id INTEGER NOT NULL,
        at REAL NOT NULL,
        fanned INTEGER NOT NULL DEFAULT 0 CHECK (fanned IN (0, 1))
    );
    CREATE INDEX webhook_event_new ON webhook_event (id) WHERE fanned = 0;
    CREATE TABLE webhook_delivery (
        id INTEGER PRIMARY KEY,
        webhook_id INTEGER NOT NULL REFERENCES webhook(id),
        event_id INTEGER NOT NULL REFERENCES webhook_event(id),
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        created_at REAL NOT NULL,
        delivered_at REAL,
        last_status INTEGER,
        last_error TEXT NOT NULL DEFAULT '',
        UNIQUE (webhook_id, event_id)
    );
    CREATE INDEX webhook_delivery_due ON webhook_delivery (next_at) WHERE state = 'pending';
    CREATE TABLE webhook_attempt (
        id INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL REFERENCES webhook_delivery(id),
        at REAL NOT NULL,
        status INTEGER,
        error TEXT NOT NULL DEFAULT '',
        seconds REAL NOT NULL
    );
    CREATE INDEX webhook_attempt_delivery ON webhook_attempt (delivery_id, at);
    CREATE TRIGGER webhook_on_disposition AFTER INSERT ON disposition
    WHEN EXISTS (SELECT 1 FROM webhook WHERE enabled = 1)
    BEGIN
        INSERT INTO webhook_event (kind, ref_id, at) VALUES ('disposition', NEW.id, NEW.at);
    END;
    CREATE TRIGGER webhook_on_call_result AFTER UPDATE OF state ON attempt
    WHEN NEW.state = 'done' AND OLD.state <> 'done'
        AND EXISTS (SELECT 1 FROM webhook WHERE enabled = 1)
    BEGIN
        INSERT INTO webhook_event (kind, ref_id, at)
        VALUES ('call.result', NEW.id, COALESCE(NEW.ended_at, 0));
    END;
    """,
    # 10: what a runner knew of a call before it ended (issue 15, red-team 6): how it was
    # answered and when an agent was bridged, so a crash keeps what was known instead of
    # turning an answered or bridged call into an ``error``
    """
    ALTER TABLE attempt ADD COLUMN answered_kind TEXT;
    ALTER TABLE attempt ADD COLUMN bridged_at REAL;
    """,
    # 11: the two moments the regulators count the 2 s abandon limit from (issue 15,
    # item 3): the line's answer (Ofcom) and the end of the called person's greeting
    # (16 CFR 310.4(b)(4)(iii)); ``answered_at`` is when answer detection said "human".
    # With ``bridged_at`` (or ``ended_at`` for an abandon) they give each call's delays.
    """
    ALTER TABLE attempt ADD COLUMN line_answered_at REAL;
    ALTER TABLE attempt ADD COLUMN greeting_ended_at REAL;
    """,
    # 12: the next contact to call read in index order (issue 17 item 7). claim_next
    # orders by ``priority DESC, next_at, id``; the index had ``priority`` ascending, so
    # SQLite sorted every due contact of the campaign for each claim (23 ms with 20,000
    # due: 72 % of the service's CPU at 200 agents); in the query's own order it reads
    # the first rows and stops (0.1 ms). Personal callbacks were found by a full scan.
    """
    DROP INDEX contact_due;
    CREATE INDEX contact_due ON contact (campaign_id, state, priority DESC, next_at);
    CREATE INDEX contact_callback_agent ON contact (callback_agent, next_at)
        WHERE callback_agent IS NOT NULL;
    """,
    # 13: a campaign archived and a list removed from the admin area (issue 18 item 5):
    # marked, never deleted, since calls, recordings, scores and reports refer to them
    # (dialer/store/archive.py)
    """
    ALTER TABLE campaign ADD COLUMN archived_at REAL;
    ALTER TABLE campaign ADD COLUMN archived_by TEXT;
    ALTER TABLE list ADD COLUMN removed_at REAL;
    ALTER TABLE list ADD COLUMN removed_by TEXT;
    """,
    # 14: the database's own random name (issue 15, red-team 5): the correlation tags a
    # runner puts on its calls carry it, so a dialer restarted after a crash clears only
    # the calls placed from its own database, never those of another dialer (its own
    # database, the same attempt ids) sharing the gateway
    """
    CREATE TABLE store_identity (id TEXT NOT NULL);
    INSERT INTO store_identity (id) VALUES (lower(hex(randomblob(8))));
    """,
    # 15: a refused list row's stable code beside its English reason
    # (dialer/campaigns/lists.py ROW_REFUSAL_CODES), so the console shows a list's stored
    # refused rows in its own language too; NULL for rows refused before
    """
    ALTER TABLE import_error ADD COLUMN code TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn``'s schema to :data:`SCHEMA_VERSION`; returns the version found.

    Each step runs in its own transaction with the version bump, so a crash mid-migration
    leaves the previous version intact.
    """
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise StoreError(f"the campaign database has schema version {found}, newer than "
                         f"this trunkline understands ({SCHEMA_VERSION}); upgrade trunkline")
    for version in range(found + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


def _statements(script: str) -> Iterator[str]:
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()

