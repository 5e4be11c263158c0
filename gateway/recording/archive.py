"""The recording archive: a root folder of recordings with their index, and its upkeep.

:class:`RecordingStore` needs no engine (the CLI and tests use it alone; the running
gateway's :class:`~trunkline.gateway.recording.desk.RecordingDesk` is one). It names new
recordings (``YYYY/MM/DD/`` under the root) and keeps them over time:

- recovery: on restart :meth:`RecordingStore.recover` finds every ``.part`` (from the
  index and under the root), repairs it (:func:`~trunkline.gateway.recording.wav.repair`)
  and marks it ``repaired`` in the index;
- retention: :class:`RetentionRule` (from TOML with :func:`load_rules`) and
  :meth:`RecordingStore.purge`, which logs every deletion;
- verification, export, backup and restore, each checking the SHA-256 the index keeps.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from trunkline.errors import ConfigError
from trunkline.gateway.recording.errors import RecordingError
from trunkline.gateway.recording.index import COLUMNS, RecordingIndex
from trunkline.gateway.recording.wav import repair, sha256
from trunkline.schema import describe

log = structlog.get_logger("trunkline.gateway.recording.archive")


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
    """Retention rules from TOML: ``default_days = 90`` and ``[[rule]] campaign, days``.

    Checked key by key, each error naming the file, the line and the key: this file
    decides what is deleted, and it took anything. A misspelt ``campain`` made its
    ``[[rule]]`` a default rule that replaced ``default_days`` (every recording of every
    other campaign purged after that rule's days); ``campaign = 5`` matched no
    campaign; ``default_days = "90"`` was read as a number.
    """
    from trunkline.tomlconf import load_toml, reject_unknown_keys

    doc = load_toml(Path(path))
    data = doc.data
    reject_unknown_keys(doc, data, {"default_days", "rule"})

    def days_of(table: dict[str, Any], where: tuple[str | int, ...]) -> float:
        value = table["days" if where else "default_days"]
        key = (*where, "days") if where else ("default_days",)
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value <= 0):
            raise doc.error(f"{key[-1]}: expected a number of days > 0, got "
                            f"{describe(value)}", key)
        return float(value)

    rules = []
    if "default_days" in data:
        rules.append(RetentionRule(days_of(data, ())))
    entries = data.get("rule", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise doc.error("rule must be [[rule]] tables", ("rule",))
    for i, entry in enumerate(entries):
        where: tuple[str | int, ...] = ("rule", i)
        reject_unknown_keys(doc, entry, {"campaign", "days"}, where)
        for key in ("campaign", "days"):
            if key not in entry:
                hint = " (the default is default_days, outside any [[rule]])"
                raise doc.error(f"rule[{i}] needs {key!r}"
                                + (hint if key == "campaign" else ""), where)
        campaign = entry["campaign"]
        if not isinstance(campaign, str) or not campaign.strip():
            raise doc.error(f"campaign: expected a campaign's name, got "
                            f"{describe(campaign)}", (*where, "campaign"))
        rules.append(RetentionRule(days_of(entry, where), campaign))
    if not rules:
        raise ConfigError(f"{path}: no retention rules (set default_days or [[rule]])")
    try:
        check_rules(rules)
    except ConfigError as err:
        raise ConfigError(str(err), source=str(path)) from None
    return rules


def check_rules(rules: list[RetentionRule]) -> None:
    """Refuse two rules for one campaign (or two defaults): which one deleted was a
    matter of their order (the last won), never said."""
    seen: dict[str | None, RetentionRule] = {}
    for rule in rules:
        other = seen.get(rule.campaign)
        if other is not None:
            what = f"campaign {rule.campaign!r}" if rule.campaign else "the default"
            raise ConfigError(f"two retention rules for {what} ({other.days:g} and "
                              f"{rule.days:g} days): keep one")
        seen[rule.campaign] = rule


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

    def inside(self, path: str | Path) -> bool:
        """Whether ``path`` (links followed) lies under the root. Rows of an index
        written before client paths were confined (issue 15, red-team 4: ``call.record``
        wrote through ``../..``) may name host files: they are never repaired, purged,
        exported or restored over."""
        root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        return real == root or real.startswith(root + os.sep)

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
            if not self.inside(path):
                log.error("recording_outside_root", path=str(path), root=str(self.root))
                continue
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
            if not self.inside(row["path"]):
                log.error("recording_outside_root", path=row["path"], root=str(self.root))
                continue  # a host file an old unconfined call.record named: never deleted
            if not dry_run:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(row["path"])
                self.index.log_deletion(row, rule.name, now)
                log.info("recording_deleted", **entry)
            deleted.append(entry)
        return deleted

    # -- verification, export, backup, restore --------------------------------------
    def verify(self, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Recordings whose file is missing or whose checksum differs from the index;
        over the whole store also every ``.part`` no running recording is writing (an
        interrupted or failed one, not yet repaired)."""
        bad = []
        if rows is None and self.root.is_dir():
            live = {row["path"] + ".part" for row in self.index.search(state="recording",
                                                                       limit=1_000_000)}
            for part in sorted(self.root.rglob("*.wav.part")):
                if str(part) not in live:
                    bad.append({"path": str(part), "problem": "unrepaired .part "
                                "('trunkline recordings repair' makes it a WAV)"})
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
        self.refuse_overlap(dest, "backup" if with_db else "export")
        try:
            dest.mkdir(parents=True, exist_ok=True)
            if any(dest.iterdir()):
                raise RecordingError(f"{dest}: the destination folder is not empty")
            files = []
            for row in rows:
                src = Path(row["path"])
                if row["state"] == "recording" or not src.exists():
                    continue
                if not self.inside(src):  # never copy a host file out
                    log.error("recording_outside_root", path=str(src), root=str(self.root))
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

    def refuse_overlap(self, dest: str | Path, action: str) -> None:
        """Refuse a destination inside the root, or holding it (links followed).

        Inside, a backup lands among the recordings it protects: it is lost with the
        same disk, its copies sit under the root as unindexed files, and each later
        backup into the root copies into itself again. A root inside the destination
        mixes the copy with the live store (and the destination is never empty, which
        was the only, misleading, refusal). Both are said naming the two paths.
        """
        root = Path(os.path.realpath(self.root))
        real = Path(os.path.realpath(dest))
        shown = str(dest) if Path(dest) == real else f"{dest} (= {real})"
        if real == root or root in real.parents:
            raise RecordingError(f"{shown}: the {action} destination is inside the "
                                 f"recordings root {root}; it would copy the recordings "
                                 "into themselves and be lost with them: choose a folder "
                                 "outside the root (another disk, for a backup)")
        if real in root.parents:
            raise RecordingError(f"{shown}: the {action} destination holds the recordings "
                                 f"root {root}; the copy would be mixed with the live "
                                 "recordings: choose a folder outside the root")

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
            rel = Path(entry["file"])
            if ".." in rel.parts or rel.is_absolute() or rel.parts[:1] != ("files",) \
                    or not self.inside(self.root / rel.relative_to("files")):
                raise RecordingError(f"{src}: the manifest names {entry['file']!r}, outside "
                                     "its files/ and the recordings root; nothing was restored")
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
