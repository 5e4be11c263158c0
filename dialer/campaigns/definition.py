"""A campaign's definition as one object, the tables of its TOML file: ``strategy``,
``campaign`` (settings), ``desk`` and ``qa``, checked exactly as ``trunkline dialer
campaign create`` checks a file (types by table and key, then the strategy, the engine
and runner settings, the desk's dispositions and script, the QA form), so the admin API
(issue 18 item 5) and the CLI refuse the same things with the same words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.review.qaform import QaForm
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError
from trunkline.tomlconf import LineIndex, TomlDocument

TABLES = ("strategy", "campaign", "desk", "qa")


@dataclass(frozen=True, slots=True)
class Definition:
    strategy: Strategy
    settings: dict[str, Any]
    desk: DeskConfig | None
    qa: QaForm | None


def check(name: str, data: Mapping[str, Any], *, source: str = "request body"
          ) -> Definition:
    """The checked definition; ConfigError naming the table and key otherwise."""
    from trunkline.dialer.campaigns.cli import _check_settings
    from trunkline.dialer.campaigns.file_schema import check_campaign_file

    unknown = sorted(set(data) - set(TABLES))
    if unknown:
        raise ConfigError(f"unknown tables {', '.join(unknown)}; a campaign has "
                          f"{', '.join(TABLES)}", source=source)
    doc = TomlDocument(dict(data), source, LineIndex.of(""))
    check_campaign_file(doc)
    try:
        strategy = Strategy.from_dict(data.get("strategy", {}))
        settings = dict(data.get("campaign", {}))
        _check_settings(name, settings)
        desk = DeskConfig.from_dict(name, data["desk"]) if "desk" in data else None
        qa = QaForm.from_dict(data["qa"]) if "qa" in data else None
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err), source=source) from err
    return Definition(strategy, settings, desk, qa)


def save(store: Store, name: str, definition: Definition, *, now: float,
         by: str | None = None) -> None:
    """Create or update the campaign in one transaction (a running campaign's runner
    reads its strategy and settings at its next start; live changes are
    ``PATCH /api/campaigns/{name}/settings``)."""
    with store.transaction():
        store.create_campaign(name, definition.strategy, config=definition.settings, now=now)
        if definition.desk is not None:
            store.save_desk_config(name, definition.desk)
        if definition.qa is not None:
            store.save_qa_form(name, definition.qa.to_dict(), now=now, by=by)


def load(store: Store, name: str) -> dict[str, Any]:
    """The campaign's definition as stored (the tables :func:`check` takes)."""
    out: dict[str, Any] = {"strategy": store.strategy(name).to_dict(),
                           "campaign": store.campaign_config(name),
                           "desk": store.desk_config(name).to_dict()}
    qa = store.qa_form(name)
    if qa is not None:
        out["qa"] = qa
    return out
