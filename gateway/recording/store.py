"""Call recordings: a crash-safe WAV writer, the index, retention, backup and restore.

Crash safety (docs/recording.md has the operator's version):

- A recording is written to ``NAME.wav.part``: a complete WAV header first (sizes 0),
  then audio. The media tick hands each frame to :class:`WavWriter`, which buffers in
  memory and, once a second (50 frames), writes the buffer with ``os.write`` and then
  rewrites the header's RIFF and data sizes (``pwrite``). After that write the second is
  in the kernel: a crash of the gateway process loses nothing older than a second.
- A background thread (:class:`_Syncer`) ``fdatasync``\\ s every open recording once a
  second, so a crash of the machine loses at most about the last second as well. The
  tick itself never waits for the disk beyond one ``write`` a second per recording.
- On stop the rest is written, the header made final, the file renamed to ``NAME.wav``
  (atomic), then fsynced with its folder and checksummed (SHA-256) by a worker thread.
  A finished recording is never rewritten again, so it cannot be corrupted by a later
  crash; the index keeps its checksum, which ``verify``, export and restore check.
- On restart :meth:`RecordingStore.recover` finds every ``.part`` (from the index and
  under the root), cuts it to whole frames, fixes the header sizes from the file's real
  length, renames it to ``.wav`` and marks it ``repaired`` in the index.

A full disk or an unwritable folder makes the writer stop writing (the tick carries on),
keep what is already on disk with a correct header, and report the error; the index row
says ``failed`` with the reason, and the audio up to the error is kept.

The index is SQLite in WAL mode (``index.sqlite`` under the root): one row per recording
with call id, campaign, agent id and name, customer number, start time, duration,
outcome, encoding, pause intervals, size, checksum and state; deletions are logged in a
table of their own as well as in the structured log.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from trunkline.errors import ConfigError, TrunklineError
from trunkline.gateway.background import worker

log = structlog.get_logger("trunkline.gateway.recording.store")

SAMPLE_RATE = 8000
CHANNELS = 2
#: WAVE format tags (RFC 2361): PCM, A-law, mu-law.
FORMATS = {"pcm16": (1, 2), "alaw": (6, 1), "ulaw": (7, 1)}
FLUSH_FRAMES = 50  # one second of 20 ms frames


class RecordingError(TrunklineError):
    """A recording could not be written, repaired, exported or restored."""


# -- the WAV writer ----------------------------------------------------------------------

def _header(encoding: str, frames: int) -> tuple[bytes, int, int | None]:
    """The WAV header for ``frames`` sample frames; (bytes, data offset, fact offset)."""
    tag, width = FORMATS[encoding]
    block = CHANNELS * width
    data = frames * block
    if tag == 1:
        fmt = struct.pack("<HHIIHH", tag, CHANNELS, SAMPLE_RATE, SAMPLE_RATE * block, block, 16)
        head = b"fmt " + struct.pack("<I", len(fmt)) + fmt
        fact = b""
    else:  # non-PCM WAVE needs cbSize and a fact chunk (sample frames)
        fmt = struct.pack("<HHIIHHH", tag, CHANNELS, SAMPLE_RATE, SAMPLE_RATE * block, block,
                          8, 0)
        head = b"fmt " + struct.pack("<I", len(fmt)) + fmt
        fact = b"fact" + struct.pack("<II", 4, frames)
    body = head + fact + b"data" + struct.pack("<I", data)
    out = b"RIFF" + struct.pack("<I", 4 + len(body) + data) + b"WAVE" + body
    fact_at = 12 + len(head) + 8 if fact else None
    return out, len(out), fact_at


class _Syncer:
    """One thread that fdatasyncs every open recording once a second."""

    def __init__(self) -> None:
        self._fds: dict[int, WavWriter] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.interval = 1.0

    def add(self, writer: WavWriter) -> None:
        with self._lock:
            self._fds[id(writer)] = writer
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="trunkline-rec-sync",
                                                daemon=True)
                self._thread.start()

    def remove(self, writer: WavWriter) -> None:
        with self._lock:
            self._fds.pop(id(writer), None)

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                writers = list(self._fds.values())
            for w in writers:
                w.sync()


_syncer = _Syncer()


def _finish_pool() -> ThreadPoolExecutor:
    """The background thread that finishes recordings (closing never runs in the tick)."""
    return worker("rec")


def _encode(block: np.ndarray, encoding: str) -> bytes:
    """Interleaved stereo frames (n x 2, float) as the file's sample bytes."""
    pcm = np.clip(np.rint(block), -32768, 32767).astype(np.int16)
    if encoding == "pcm16":
        return pcm.astype("<i2").tobytes()
    from trunkline.drivers.dsp.g711 import encode

    return np.asarray(encode(pcm.reshape(-1), encoding), dtype=np.uint8).tobytes()


class WavWriter:
    """A stereo 8 kHz WAV file written crash-safely (see the module docstring)."""

    def __init__(self, path: str | Path, encoding: str = "pcm16", *,
                 flush_frames: int = FLUSH_FRAMES, sync: bool = True) -> None:
        if encoding not in FORMATS:
            raise ConfigError(f"unknown recording encoding {encoding!r}; "
                              "expected pcm16, alaw or ulaw")
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + ".part")
        self.encoding = encoding
        self.flush_frames = flush_frames
        self.sync_enabled = sync
        self.samples = 0  # sample frames on disk
        self.error: str | None = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._dirty = False
        self._data_at = 0
        self._fact_at: int | None = None

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                raise FileExistsError(17, "a finished recording is already there",
                                      str(self.path))
            fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
            header, self._data_at, self._fact_at = _header(self.encoding, 0)
            os.write(fd, header)
        except OSError as err:
            raise RecordingError(f"{self.path}: cannot record here: "
                                 f"{err.strerror or err}") from err
        self._fd = fd
        if self.sync_enabled:
            _syncer.add(self)

    def write(self, stereo: np.ndarray) -> None:
        """Append frames (n x 2: left, right); never raises (errors are kept in .error)."""
        if self._fd is None or self.error is not None:
            return
        self._buffer.append(_encode(stereo, self.encoding))
        self._buffered += stereo.shape[0]
        if self._buffered >= self.flush_frames * 160:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered, then the header sizes (the once-a-second step)."""
        if self._fd is None or not self._buffer or self.error is not None:
            return
        data = b"".join(self._buffer)
        frames = self._buffered
        self._buffer, self._buffered = [], 0
        try:
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as err:
            self._fail(err)
            return
        self.samples += frames
        self._write_sizes()
        self._dirty = True

    def _write_sizes(self) -> None:
        _tag, width = FORMATS[self.encoding]
        data = self.samples * CHANNELS * width
        try:
            assert self._fd is not None
            os.pwrite(self._fd, struct.pack("<I", self._data_at - 8 + data), 4)
            os.pwrite(self._fd, struct.pack("<I", data), self._data_at - 4)
            if self._fact_at is not None:
                os.pwrite(self._fd, struct.pack("<I", self.samples), self._fact_at)
        except OSError as err:
            self._fail(err)

    def _fail(self, err: OSError) -> None:
        """Stop writing; what is on disk stays valid (the last good header)."""
        self.error = f"{self.part}: {err.strerror or err}"
        log.error("recording_write_failed", path=str(self.path), error=self.error,
                  seconds=round(self.samples / SAMPLE_RATE, 2))
        # Cut anything partly written after the last good size, so the file is whole.
        with contextlib.suppress(OSError):
            assert self._fd is not None
            _tag, width = FORMATS[self.encoding]
            os.ftruncate(self._fd, self._data_at + self.samples * CHANNELS * width)

    def sync(self) -> None:
        """fdatasync if anything was written since the last sync (syncer thread)."""
        with self._lock:
            if self._fd is None or not self._dirty:
                return
            self._dirty = False
            with contextlib.suppress(OSError):
                os.fdatasync(self._fd)

    def close(self) -> Path:
        """Finish: write the rest, final header, rename ``.part`` to the final name.

        The fsync of file and folder happens in a worker thread (the tick does not wait
        for the disk); returns the final path (or the ``.part`` kept after an error).
        """
        if self._fd is None:
            return self.path
        self.flush()
        _syncer.remove(self)
        with self._lock:
            fd, self._fd = self._fd, None
        final = self.path
        try:
            os.rename(self.part, self.path)
        except OSError as err:
            self.error = self.error or f"{self.path}: cannot finish: {err.strerror}"
            final = self.part
        _finish_pool().submit(_durable_close, fd, final)
        return final

    @property
    def seconds(self) -> float:
        return (self.samples + self._buffered) / SAMPLE_RATE


def _durable_close(fd: int, path: Path) -> None:
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def repair(part: str | Path) -> tuple[Path, float]:
    """Make an interrupted ``.part`` a valid WAV; returns (final path, seconds).

    The header is read for the encoding; the data is cut to whole sample frames and the
    sizes are set from the file's length. A ``.part`` too short to hold its header is
    renamed ``.broken`` (kept for inspection, never deleted).
    """
    part = Path(part)
    final = part.with_name(part.name[: -len(".part")]) if part.name.endswith(".part") else part
    with open(part, "r+b") as fh:
        head = fh.read(64)
        size = os.fstat(fh.fileno()).st_size
        if len(head) < 44 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            fh.close()
            broken = part.with_name(part.name + ".broken")
            os.replace(part, broken)
            raise RecordingError(f"{part}: not a WAV recording (kept as {broken.name})")
        tag = struct.unpack_from("<H", head, 20)[0]
        encoding = {1: "pcm16", 6: "alaw", 7: "ulaw"}.get(tag)
        if encoding is None:
            raise RecordingError(f"{part}: unknown WAVE format {tag}")
        _, data_at, _fact_at = _header(encoding, 0)
        block = CHANNELS * FORMATS[encoding][1]
        frames = max(0, (size - data_at) // block)
        fh.truncate(data_at + frames * block)
        header, _, _ = _header(encoding, frames)
        fh.seek(0)
        fh.write(header)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, final)
    return final, frames / SAMPLE_RATE


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- the index ----------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    call_id INTEGER, campaign TEXT, agent_id TEXT, agent_name TEXT, customer TEXT,
    started REAL NOT NULL, duration REAL, outcome TEXT, encoding TEXT,
    state TEXT NOT NULL, reason TEXT, pauses TEXT, size INTEGER, sha256 TEXT, error TEXT,
    finished REAL
);
CREATE INDEX IF NOT EXISTS rec_call ON recordings(call_id);
CREATE INDEX IF NOT EXISTS rec_campaign ON recordings(campaign);
CREATE INDEX IF NOT EXISTS rec_agent ON recordings(agent_id);
CREATE INDEX IF NOT EXISTS rec_agent_name ON recordings(agent_name);
CREATE INDEX IF NOT EXISTS rec_customer ON recordings(customer);
CREATE INDEX IF NOT EXISTS rec_started ON recordings(started);
CREATE INDEX IF NOT EXISTS rec_outcome ON recordings(outcome);
CREATE INDEX IF NOT EXISTS rec_state ON recordings(state);
CREATE TABLE IF NOT EXISTS deletions (
    id INTEGER PRIMARY KEY, recording INTEGER, path TEXT, deleted_at REAL, rule TEXT,
    campaign TEXT, started REAL, sha256 TEXT
);
"""
COLUMNS = ("id", "path", "call_id", "campaign", "agent_id", "agent_name", "customer",
           "started", "duration", "outcome", "encoding", "state", "reason", "pauses", "size",
           "sha256", "error", "finished")


class RecordingIndex:
    """The SQLite (WAL) index of recordings; safe to use from several threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                       isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise RecordingError(f"{self.path}: cannot open the recording index: {err}") \
                from err
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, tuple(args))

    def add(self, **row: Any) -> int:
        row.setdefault("state", "recording")
        row.setdefault("started", time.time())
        if isinstance(row.get("pauses"), list):
            row["pauses"] = json.dumps(row["pauses"])
        keys = [k for k in row if k in COLUMNS and k != "id"]
        cur = self._exec(f"INSERT OR REPLACE INTO recordings ({', '.join(keys)}) VALUES "
                         f"({', '.join('?' for _ in keys)})", [row[k] for k in keys])
        return int(cur.lastrowid or 0)

    def update(self, path: str | Path, **fields: Any) -> None:
        if isinstance(fields.get("pauses"), list):
            fields["pauses"] = json.dumps(fields["pauses"])
        keys = [k for k in fields if k in COLUMNS and k not in ("id", "path")]
        if keys:
            self._exec(f"UPDATE recordings SET {', '.join(f'{k} = ?' for k in keys)} "
                       "WHERE path = ?", [fields[k] for k in keys] + [str(path)])

    def get(self, path: str | Path) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM recordings WHERE path = ?", [str(path)])
        return rows[0] if rows else None

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(sql, tuple(args))
            names = [d[0] for d in cur.description]
            out = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        for row in out:
            if row.get("pauses"):
                row["pauses"] = json.loads(row["pauses"])
        return out

    def search(self, *, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
        """Rows matching every filter given (None = any); ``agent_name`` and ``customer``
        match substrings; ``since``/``until`` bound the start time (epoch seconds)."""
        where, args = [], []
        for key, value in filters.items():
            if value is None:
                continue
            if key == "since":
                where.append("started >= ?")
            elif key == "until":
                where.append("started < ?")
            elif key == "call":
                where.append("call_id = ?")
            elif key in ("agent_name", "customer"):
                where.append(f"{key} LIKE ?")
                value = f"%{value}%"
            elif key in ("call_id", "campaign", "agent_id", "outcome", "state", "encoding"):
                where.append(f"{key} = ?")
            else:
                raise ConfigError(f"cannot search recordings by {key!r}")
            args.append(value)
        sql = "SELECT * FROM recordings"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC, id DESC LIMIT ?"
        return self._rows(sql, [*args, int(limit)])

    def all(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM recordings ORDER BY id")

    def deletions(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM deletions ORDER BY id")

    def log_deletion(self, row: dict[str, Any], rule: str, now: float) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO deletions (recording, path, deleted_at, rule, "
                             "campaign, started, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (row["id"], row["path"], now, rule, row.get("campaign"),
                              row["started"], row.get("sha256")))
            self._db.execute("DELETE FROM recordings WHERE id = ?", (row["id"],))
            self._db.execute("COMMIT")

    def backup_to(self, dest: Path) -> None:
        with self._lock:
            target = sqlite3.connect(str(dest))
            try:
                self._db.backup(target)
            finally:
                target.close()


# -- the store ----------------------------------------------------------------------------

@dataclass
class RetentionRule:
    """Keep recordings ``days`` days; ``campaign`` None is the default rule."""

    days: float
    campaign: str | None = None

    def __post_init__(self) -> None:
        if not self.days > 0:
            raise ConfigError(f"retention days must be > 0, not {self.days!r}")

    @property
    def name(self) -> str:
        return f"{self.campaign or '*'}:{self.days:g}d"


def load_rules(path: str | Path) -> list[RetentionRule]:
    """Retention rules from TOML: ``default_days = 90`` and ``[[rule]] campaign, days``."""
    from trunkline.tomlconf import load_toml

    doc = load_toml(Path(path))
    data = doc.data if hasattr(doc, "data") else doc
    rules = []
    if "default_days" in data:
        rules.append(RetentionRule(float(data["default_days"])))
    for i, entry in enumerate(data.get("rule", [])):
        if "days" not in entry:
            raise ConfigError(f"{path}: rule[{i}] needs 'days'")
        rules.append(RetentionRule(float(entry["days"]), entry.get("campaign")))
    if not rules:
        raise ConfigError(f"{path}: no retention rules (set default_days or [[rule]])")
    return rules


def default_root() -> Path:
    env = os.environ.get("TRUNKLINE_RECORDINGS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "trunkline" / "recordings"


class RecordingStore:
    """Recordings under a root folder with their index (no engine needed: CLI, tests)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else default_root()
        self.index = RecordingIndex(self.root / "index.sqlite")

    def new_path(self, call_id: int, started: float) -> Path:
        day = time.strftime("%Y/%m/%d", time.localtime(started))
        stamp = time.strftime("%H%M%S", time.localtime(started))
        return self.root / day / f"call{call_id}-{stamp}-{int(started * 1000) % 1000:03d}.wav"

    # -- recovery -------------------------------------------------------------------
    def recover(self) -> list[dict[str, Any]]:
        """Repair interrupted recordings (index rows still ``recording``, stray .part)."""
        repaired = []
        seen: set[Path] = set()
        for row in self.index.search(state="recording", limit=1_000_000):
            path = Path(row["path"])
            part = path.with_name(path.name + ".part")
            seen.add(part)
            repaired.append(self._repair_one(part, path, row))
        if self.root.is_dir():
            for part in self.root.rglob("*.wav.part"):
                if part not in seen:
                    final = part.with_name(part.name[:-5])
                    repaired.append(self._repair_one(part, final, None))
        return [r for r in repaired if r]

    def _repair_one(self, part: Path, path: Path, row: dict | None) -> dict[str, Any]:
        if not part.exists():
            if path.exists():  # finished but the index never heard (crash after rename)
                self.index.update(path, state="complete", size=path.stat().st_size,
                                  sha256=sha256(path))
                return {"path": str(path), "state": "complete"}
            self.index.update(path, state="lost", error="no audio file found on restart")
            log.error("recording_lost", path=str(path))
            return {"path": str(path), "state": "lost"}
        try:
            final, seconds = repair(part)
        except RecordingError as err:
            self.index.update(path, state="broken", error=str(err))
            log.error("recording_unrepairable", path=str(part), error=str(err))
            return {"path": str(path), "state": "broken", "error": str(err)}
        fields = {"state": "repaired", "duration": round(seconds, 3),
                  "size": final.stat().st_size, "sha256": sha256(final),
                  "finished": time.time()}
        if row is None:
            self.index.add(path=str(final), started=final.stat().st_mtime - seconds,
                           **fields)
        else:
            self.index.update(final, **fields)
        log.warning("recording_repaired", path=str(final), seconds=round(seconds, 2))
        return {"path": str(final), **fields}

    # -- retention ------------------------------------------------------------------
    def purge(self, rules: list[RetentionRule], *, now: float | None = None,
              dry_run: bool = False) -> list[dict[str, Any]]:
        """Delete recordings older than their rule allows; returns (and logs) them.

        A campaign's own rule wins over the default; recordings still being written are
        never touched; with no default rule, recordings of other campaigns are kept.
        """
        now = time.time() if now is None else now
        by_campaign = {r.campaign: r for r in rules}
        deleted = []
        for row in self.index.search(limit=10_000_000):
            if row["state"] == "recording":
                continue
            rule = by_campaign.get(row.get("campaign")) or by_campaign.get(None)
            if rule is None or row["started"] >= now - rule.days * 86400:
                continue
            entry = {"id": row["id"], "path": row["path"], "campaign": row.get("campaign"),
                     "started": row["started"], "rule": rule.name}
            if not dry_run:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(row["path"])
                self.index.log_deletion(row, rule.name, now)
                log.info("recording_deleted", **entry)
            deleted.append(entry)
        return deleted

    # -- verification, export, backup, restore --------------------------------------
    def verify(self, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Recordings whose file is missing or whose checksum differs from the index."""
        bad = []
        for row in rows if rows is not None else self.index.all():
            if row["state"] not in ("complete", "repaired", "failed"):
                continue
            path = Path(row["path"])
            if not path.exists():
                bad.append({**row, "problem": "missing"})
            elif row.get("sha256") and sha256(path) != row["sha256"]:
                bad.append({**row, "problem": "checksum mismatch"})
        return bad

    def export(self, dest: str | Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Copy ``rows``' files into ``dest`` with a manifest (index rows + SHA-256)."""
        return self._copy_out(Path(dest), rows, with_db=False)

    def backup(self, dest: str | Path) -> dict[str, Any]:
        """Everything: files, a consistent copy of the index, and the manifest."""
        return self._copy_out(Path(dest), self.index.all(), with_db=True)

    def _copy_out(self, dest: Path, rows: list[dict[str, Any]], *,
                  with_db: bool) -> dict[str, Any]:
        try:
            dest.mkdir(parents=True, exist_ok=True)
            if any(dest.iterdir()):
                raise RecordingError(f"{dest}: the destination folder is not empty")
            files = []
            for row in rows:
                src = Path(row["path"])
                if row["state"] == "recording" or not src.exists():
                    continue
                rel = self._relative(src, row)
                target = dest / "files" / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)
                digest = sha256(target)
                expected = row.get("sha256") or sha256(src)
                if digest != expected:
                    raise RecordingError(f"{src}: copy to {target} has checksum {digest[:12]}, "
                                         f"the index says {expected[:12]}")
                files.append({**row, "file": str(Path("files") / rel), "sha256": digest})
            if with_db:
                self.index.backup_to(dest / "index.sqlite")
            manifest = {"spec": "1.0", "created": time.time(), "root": str(self.root),
                        "recordings": files}
            tmp = dest / ".manifest.json.tmp"
            tmp.write_text(json.dumps(manifest, indent=1))
            os.replace(tmp, dest / "manifest.json")
        except OSError as err:
            raise RecordingError(f"{dest}: cannot write: {err.strerror or err}") from err
        log.info("recordings_copied", dest=str(dest), files=len(files), backup=with_db)
        return {"dest": str(dest), "files": len(files)}

    def _relative(self, src: Path, row: dict[str, Any]) -> Path:
        try:
            return src.resolve().relative_to(self.root.resolve())
        except ValueError:
            return Path("external") / f"{row['id']}-{src.name}"

    def restore(self, src: str | Path) -> dict[str, Any]:
        """Restore a backup (or export) into this root, verifying every checksum first.

        Nothing is copied unless every file in the manifest matches its checksum. A
        recording already present (same path and checksum) is skipped; one present with
        other content is an error, so a restore never overwrites a different recording.
        """
        src = Path(src)
        try:
            manifest = json.loads((src / "manifest.json").read_text())
        except (OSError, ValueError) as err:
            raise RecordingError(f"{src}: no readable manifest.json ({err})") from err
        entries = manifest.get("recordings", [])
        for entry in entries:
            f = src / entry["file"]
            if not f.exists():
                raise RecordingError(f"{f}: missing from the backup")
            if sha256(f) != entry["sha256"]:
                raise RecordingError(f"{f}: checksum mismatch; the backup is damaged, nothing "
                                     "was restored")
        restored, skipped = 0, 0
        for entry in entries:
            rel = Path(entry["file"]).relative_to("files")
            target = self.root / rel
            if target.exists():
                if sha256(target) == entry["sha256"]:
                    skipped += 1
                    if self.index.get(target) is None:
                        self._index_restored(entry, target)
                    continue
                raise RecordingError(f"{target}: a different recording is already there; "
                                     "not overwritten")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.restore")
            shutil.copy2(src / entry["file"], tmp)
            os.replace(tmp, target)
            self._index_restored(entry, target)
            restored += 1
        log.info("recordings_restored", src=str(src), restored=restored, skipped=skipped)
        return {"restored": restored, "skipped": skipped}

    def _index_restored(self, entry: dict[str, Any], target: Path) -> None:
        fields = {k: entry.get(k) for k in COLUMNS if k not in ("id", "path")}
        fields["state"] = fields.get("state") or "complete"
        self.index.add(path=str(target), **fields)


# -- the gateway side ---------------------------------------------------------------------

@dataclass
class _Policy:
    record_all: bool = False
    campaigns: set[str] = field(default_factory=set)
    encoding: str = "pcm16"


class RecordingDesk(RecordingStore):
    """Recordings on a running engine: start with metadata, pause, policies, indexing.

    Every :class:`~trunkline.gateway.media.play.Recorder` reports to the active desk (also
    those started with the engine's ``call.record``), so all recordings are indexed.
    """

    def __init__(self, engine: Any, root: str | Path | None = None) -> None:
        super().__init__(root)
        self.engine = engine
        self.tags: dict[int, dict[str, Any]] = {}
        self.policy = _Policy()
        set_active_desk(self)

    def tag(self, call_id: int, **fields: Any) -> dict[str, Any]:
        call = self.engine.call(call_id)
        tags = self.tags.setdefault(call_id, {})
        tags.update({k: v for k, v in fields.items() if v is not None})
        if call.recorder is not None:
            self.index.update(call.recorder.path, **tags)
        elif call.answered_at is not None and self._wanted(call_id):
            self.start(call_id, reason="policy")
        return {"call": call_id, **tags}

    def set_policy(self, *, record_all: bool | None, campaigns: list[str] | None,
                   encoding: str | None) -> dict[str, Any]:
        if record_all is not None:
            self.policy.record_all = record_all
        if campaigns is not None:
            self.policy.campaigns = set(campaigns)
        if encoding is not None:
            self.policy.encoding = encoding
        return {"record_all": self.policy.record_all,
                "campaigns": sorted(self.policy.campaigns), "encoding": self.policy.encoding}

    def _wanted(self, call_id: int) -> bool:
        return self.policy.record_all or \
            self.tags.get(call_id, {}).get("campaign") in self.policy.campaigns

    def start(self, call_id: int, *, encoding: str | None = None, reason: str = "request",
              **fields: Any) -> dict[str, Any]:
        """Engine thread: start recording ``call_id`` into the store, indexed."""
        from trunkline.gateway.media.play import Recorder
        from trunkline.gateway.rpc.registry import RpcError

        call = self.engine.call(call_id)
        if call.recorder is not None:
            raise RpcError("conflict", f"call {call_id} is already recording to "
                           f"{call.recorder.path}")
        tags = self.tags.setdefault(call_id, {})
        tags.update({k: v for k, v in fields.items() if v is not None})
        started = time.time()
        meta = {"call_id": call_id, "customer": call.number or None, **tags,
                "reason": reason}
        recorder = Recorder(self.new_path(call_id, started), encoding or self.policy.encoding,
                            recording_id=call_id, meta=meta)
        recorder.open()
        call.recorder = recorder
        return {"call": call_id, "recording": str(recorder.path), "reason": reason}

    def pause(self, call_id: int, paused: bool) -> dict[str, Any]:
        from trunkline.gateway.rpc.registry import RpcError

        call = self.engine.call(call_id)
        if call.recorder is None:
            raise RpcError("conflict", f"call {call_id} is not recording")
        call.recorder.pause() if paused else call.recorder.resume()
        return {"call": call_id, "paused": call.recorder.paused,
                "pauses": call.recorder.pauses}

    def on_event(self, event: dict) -> None:
        """Engine events (engine thread): start by policy at answer, keep outcomes."""
        kind = event.get("event")
        if kind == "call.state" and event.get("state") == "answered":
            call_id = int(event["call"])
            if self._wanted(call_id):
                self.engine.submit(lambda: self._policy_start(call_id))
        elif kind == "call.state" and event.get("state") == "hungup":
            call_id = int(event["call"])
            self.tags.pop(call_id, None)
            with contextlib.suppress(sqlite3.Error):
                self.index._exec("UPDATE recordings SET outcome = ? WHERE call_id = ? AND "
                                 "outcome IS NULL", (event.get("outcome"), call_id))
        elif kind == "recording.finished":
            call_id = event.get("call")
            with contextlib.suppress(sqlite3.Error):
                self.index.update(event["path"], call_id=call_id,
                                  **self.tags.get(call_id, {}))

    def _policy_start(self, call_id: int) -> None:
        call = self.engine.calls.get(call_id)
        if call is not None and call.recorder is None:
            try:
                self.start(call_id, reason="policy")
            except (TrunklineError, OSError) as err:
                log.error("policy_recording_failed", call=call_id, error=str(err))

    # -- Recorder hooks --------------------------------------------------------------
    def opened(self, recorder: Any) -> None:
        self.index.add(path=str(recorder.path), encoding=recorder.encoding,
                       started=recorder.started_wall, state="recording",
                       **{k: v for k, v in recorder.meta.items() if k in COLUMNS})

    def closed(self, recorder: Any, final: Path, seconds: float) -> None:
        state = "failed" if recorder.error else "complete"
        self.index.update(recorder.path, duration=round(seconds, 3), state=state,
                          pauses=recorder.pauses, error=recorder.error, finished=time.time())
        if final == recorder.path:
            index = self.index

            def checksum() -> None:
                with contextlib.suppress(OSError, sqlite3.Error):
                    index.update(final, sha256=sha256(final), size=final.stat().st_size)

            _finish_pool().submit(checksum)
        if recorder.error and self.engine is not None:
            self.engine.publish({"event": "recording.failed", "path": str(final),
                                 "error": recorder.error, "duration": round(seconds, 3)})


_active: RecordingDesk | None = None


def set_active_desk(desk: RecordingDesk | None) -> None:
    """The desk every Recorder reports to (None: recordings are not indexed)."""
    global _active
    _active = desk


def active_desk() -> RecordingDesk | None:
    return _active


def wait_idle(timeout: float = 10.0) -> None:
    """Wait until the background fsync/checksum work queued so far is done (tests, CLI)."""
    _finish_pool().submit(lambda: None).result(timeout=timeout)
