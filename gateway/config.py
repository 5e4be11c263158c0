"""The gateway's configuration file (TOML), and the defaults used without one.

```toml
[card]
url = "emulated"                 # "emulated", "emulated:card.toml" or "dahdi"
network = "plan.toml"            # emulated card only: the number plan
zone = "cn"                      # tone zone of the lines (default: the card's, else cn)
[[span]]                         # the signalling a span speaks, where the card cannot say
span = 5
signalling = "mfcr2"             # pri | mfcr2 | ss7 | fxo | fxs
variant = "cn"                   # ...and the module's own options (docs/r2.md, docs/ss7.md)
[[line]]                         # how analog lines behave (the installer knows)
channels = ["fxo"]               # kinds, "span:N" or channel numbers
answer_on_polarity = true        # the line reverses polarity on answer
caller_id = "bell202"            # caller ID after the first ring: bell202 | v23 | ""
[server]
socket = "/run/trunkline/gateway.sock"
tcp = "127.0.0.1:7411"           # optional; needs tokens
tls_cert = "cert.pem"            # optional, with tls_key
tls_key = "key.pem"
queue_limit = 1000
metrics = "127.0.0.1:9411"       # optional Prometheus endpoint
max_clients = 256                # connections in all
max_clients_per_peer = 64        # from one Unix user id or one TCP address
admin_reserved_slots = 4         # of max_clients, only for admin-role connections
auth_timeout = 10.0              # s a TCP client has to authenticate
decode_share = 0.1               # of the loop's CPU one client's decoding may take
request_rate = 500               # requests a second one peer's connections may send
request_burst = 1000             # ...and at once (past them: refused, then cut)
[[token]]
token = "..."                    # or token_file = "/etc/trunkline/admin.token"
role = "admin"                   # monitor | control | admin
[calls]
inbound_timeout = 10.0           # unclaimed inbound calls are rejected after this
reject_cause = 21
shutdown_grace = 10.0            # seconds calls may go on after a stop request
[fax]
spool = "/var/spool/trunkline/fax"   # fax jobs' files
documents = "/srv/fax"           # the only folder clients' fax files may be in (default:
                                 # SPOOL/documents): documents to send, faxes received
[recordings]
root = "/var/lib/trunkline/recordings"  # recordings and their index; call.record's
                                        # paths must lie here too
[media]
prompts = "/var/lib/trunkline/prompts"  # the only folder call.play may read files from
[pri]
switchtype = "euroisdn_e1"
trace = false
[[group]]
name = "outbound"
channels = ["fxo", "pri", "r2", "ss7"]  # kinds (fxo, fxs, pri, r2, ss7, mobile),
                                 # "span:N", numbers; tried in this order (the default
                                 # outbound group lists mobile last: SIMs as overflow)
order = "round_robin"            # or "first" (default): where each call's search starts
                                 # (round_robin gives every span its turn, modules too)
```

SIGHUP reloads what can change without touching hardware: tokens, groups, the inbound
timeout, the reject cause and the request rate limit (request_rate, request_burst).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trunkline.errors import ConfigError
from trunkline.gateway.media.channels import ORDERS
from trunkline.gateway.rpc.request_rate import DEFAULT_REQUEST_BURST, DEFAULT_REQUEST_RATE
from trunkline.schema import Expect, describe
from trunkline.tomlconf import TomlDocument, load_toml, parse_toml, reject_unknown_keys

ROLES = ("monitor", "control", "admin")


def default_socket() -> Path:
    """/run/trunkline/gateway.sock for root, else under $XDG_RUNTIME_DIR or /tmp."""
    if os.geteuid() == 0 and Path("/run").is_dir():
        return Path("/run/trunkline/gateway.sock")
    base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/trunkline-{os.getuid()}"
    return Path(base) / "trunkline" / "gateway.sock"


@dataclass
class GatewayConfig:
    card_url: str = "emulated"
    network: Path | None = None
    socket: Path = field(default_factory=default_socket)
    tcp: tuple[str, int] | None = None
    tls: tuple[str, str] | None = None
    queue_limit: int = 1000
    metrics: tuple[str, int] | None = None
    max_clients: int = 256
    """``[server] max_clients``: connections in all (docs/gateway.md#client-slots)."""
    max_clients_per_peer: int = 64
    """Connections one peer may hold: a Unix user id (SO_PEERCRED) or a TCP address."""
    admin_reserved_slots: int = 4
    """Slots of max_clients only admin-role connections may take."""
    auth_timeout: float = 10.0
    """Seconds a TCP connection has to authenticate before it is cut (auth_timeout)."""
    decode_share: float = 0.1
    """The share of the event loop's CPU one client's decoding may take (after a burst
    of 50 ms): gateway/rpc/decode_budget.py."""
    request_rate: float = DEFAULT_REQUEST_RATE
    """Requests a second one peer's connections may send together (a Unix user id, a TCP
    address): gateway/rpc/request_rate.py."""
    request_burst: int = DEFAULT_REQUEST_BURST
    """Requests one peer may send at once, before ``request_rate`` applies."""
    tokens: dict[str, str] = field(default_factory=dict)
    inbound_timeout: float = 10.0
    reject_cause: int = 21
    shutdown_grace: float = 10.0
    pri_switchtype: str = "euroisdn_e1"
    pri_trace: bool = False
    groups: dict[str, list[Any]] = field(default_factory=lambda: {
        "outbound": ["fxo", "pri", "r2", "ss7", "mobile"], "fxo": ["fxo"], "pri": ["pri"],
        "r2": ["r2"], "ss7": ["ss7"], "mobile": ["mobile"], "agents": ["fxs"]})
    group_order: dict[str, str] = field(default_factory=dict)
    """``[[group]]`` ``order`` by group name: first (default) or round_robin."""
    zone: str | None = None
    """The tone zone of the card's lines (None: what the card says, else ``cn``)."""
    lines: list[tuple[list[Any], dict[str, Any]]] = field(default_factory=list)
    """``[[line]]`` tables: (channel entries, line options) in file order."""
    spans: dict[int, Any] = field(default_factory=dict)
    """``[[span]]`` tables: the signalling module (a ModuleSpec) per span number."""
    span_lines: dict[int, int | None] = field(default_factory=dict)
    """The line of each ``[[span]]`` table's ``span`` key, for errors found once the card
    is open (a span the card does not have)."""
    group_lines: dict[str, int | None] = field(default_factory=dict)
    """The line of each ``[[group]]``'s ``channels``, and (key ``"[[line]] N"``, N from 1) of
    each ``[[line]]``'s: a channel or span the card lacks is found once it is open."""
    fax_spool: Path | None = None
    """Where fax jobs keep their files (default: see gateway/fax/methods.py)."""
    recordings_root: Path | None = None
    """Where recordings and their index live (default: see gateway/recording/archive.py);
    ``call.record``'s paths must lie in it (gateway/paths.py)."""
    fax_documents: Path | None = None
    """The folder clients' fax files must lie in (default: the spool's ``documents``)."""
    prompts: Path | None = None
    """The folder ``call.play`` files must lie in (default: gateway/paths.py)."""
    sms_store: Path | None = None
    """``[sms] store``: the SMS database (default: see gateway/sms/methods.py)."""
    sim_limits: dict[str, Any] = field(default_factory=dict)
    """``[sim_limits.<group>]``: a LimitPolicy per module group (gateway/sms/limits.py)."""
    webrtc: Any = None
    """``[webrtc]``: the softphone's SoftphoneSettings (gateway/webrtc/settings.py; None:
    the defaults)."""
    source: str | None = None


def _address(doc: TomlDocument, value: Any, path: tuple) -> tuple[str, int]:
    if not isinstance(value, str) or value.count(":") != 1:
        raise doc.error(f"{path[-1]} must be 'host:port', not {value!r}", path)
    host, port = value.rsplit(":", 1)
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise doc.error(f"{path[-1]} has a bad port: {value!r}", path)
    return host, int(port)


#: ``[server]`` keys of the client-slot, decoding and request-rate policy, and what each
#: must hold.
_SLOT_KEYS = {
    "max_clients": Expect("a whole number 1..100000",
                          lambda v: _whole(v) and 1 <= v <= 100_000),
    "max_clients_per_peer": Expect("a whole number >= 1", lambda v: _whole(v) and v >= 1),
    "admin_reserved_slots": Expect("a whole number >= 0", lambda v: _whole(v) and v >= 0),
    "auth_timeout": Expect("seconds, a finite number 0.1..300",
                           lambda v: _number(v) and 0.1 <= v <= 300),
    "decode_share": Expect("a share of the loop, a number 0.01..1",
                           lambda v: _number(v) and 0.01 <= v <= 1),
    "request_rate": Expect("requests a second, a number 1..1000000",
                           lambda v: _number(v) and 1 <= v <= 1_000_000),
    "request_burst": Expect("a whole number of requests 1..1000000",
                            lambda v: _whole(v) and 1 <= v <= 1_000_000),
}


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _slots(doc: TomlDocument, server: dict[str, Any], cfg: GatewayConfig) -> None:
    """The ``[server]`` slot policy, in the schema's message format (file:line, key,
    expected, got), and consistent with itself."""
    for key, expect in _SLOT_KEYS.items():
        if key in server:
            value = server[key]
            if not expect.test(value):
                raise doc.error(f"[server] {key}: expected {expect.what}, got "
                                f"{describe(value)}", ("server", key))
            setattr(cfg, key, value)
    cfg.auth_timeout = float(cfg.auth_timeout)
    cfg.decode_share = float(cfg.decode_share)
    cfg.request_rate = float(cfg.request_rate)
    if cfg.admin_reserved_slots >= cfg.max_clients:
        key = "admin_reserved_slots" if "admin_reserved_slots" in server else "max_clients"
        raise doc.error(f"[server] {key}: expected admin_reserved_slots below max_clients "
                        f"({cfg.max_clients}), got {cfg.admin_reserved_slots} reserved",
                        ("server", key))


def _zone(doc: TomlDocument, value: Any) -> str:
    from trunkline.drivers.dsp.zones import zone_names

    zones = zone_names()
    if not isinstance(value, str) or value not in zones:
        raise doc.error(f"card.zone must be a tone zone ({', '.join(zones[:12])}, ...), "
                        f"not {value!r}", ("card", "zone"))
    return value


def _span_signalling(doc: TomlDocument, table: Any, path: tuple) -> tuple[int, Any]:
    """A ``[[span]]`` table: its span number and the module (with options) it names.
    The module checks its own options when it is built."""
    from trunkline.drivers.signalling.base import MODULES, ModuleSpec

    if not isinstance(table, dict):
        raise doc.error("each [[span]] must be a table", path)
    number = table.get("span")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise doc.error("a [[span]] table needs 'span', the span's number (1, 2...)",
                        (*path, "span"))
    name = table.get("signalling")
    if name not in MODULES:
        raise doc.error(f"signalling must be one of {', '.join(sorted(MODULES))}, not "
                        f"{name!r}", (*path, "signalling"))
    options = {k: v for k, v in table.items() if k not in ("span", "signalling", "linkset")}
    group = table.get("linkset")
    if group is not None and not isinstance(group, str):
        raise doc.error("linkset must be a name", (*path, "linkset"))
    return number, ModuleSpec(name, options, group=group)


def _channel_entries(doc: TomlDocument, chans: Any, path: tuple) -> list[Any]:
    if not isinstance(chans, list) or not chans:
        raise doc.error("channels must be a non-empty list", path)
    for c in chans:
        ok = (isinstance(c, int) and not isinstance(c, bool) and c > 0) or c in (
            "fxo", "fxs", "pri", "r2", "ss7", "mobile") or (
                isinstance(c, str) and c.startswith("span:") and c[5:].isdigit())
        if not ok:
            raise doc.error(f"bad channel entry {c!r}: a channel number, fxo, fxs, "
                            "pri, r2, ss7, mobile or span:N", path)
    return chans


def parse_config(doc: TomlDocument, base: Path | None = None) -> GatewayConfig:
    cfg = GatewayConfig(source=doc.source)
    data = doc.data
    reject_unknown_keys(doc, data, {"card", "server", "token", "calls", "pri", "group", "fax",
                                    "recordings", "media", "line", "span", "sms",
                                    "sim_limits", "webrtc"})

    def rel(p: str) -> Path:
        return Path(p) if Path(p).is_absolute() or base is None else base / p

    def path_of(table: dict[str, Any], key: str, where: tuple) -> Path:
        """A file or folder key: a non-empty string, relative to the file's folder."""
        value = table[key]
        if not isinstance(value, str) or not value:
            raise doc.error(f"{key} must be a path (a string), not {value!r}", (*where, key))
        return rel(value)

    def text_of(table: dict[str, Any], key: str, where: tuple) -> str:
        value = table[key]
        if not isinstance(value, str) or not value:
            raise doc.error(f"{key} must be a string, not {value!r}", (*where, key))
        return value

    def flag_of(table: dict[str, Any], key: str, where: tuple) -> bool:
        # A string such as "no" would be true to Python: only TOML's true/false count.
        value = table[key]
        if not isinstance(value, bool):
            raise doc.error(f"{key} must be true or false, not {value!r}", (*where, key))
        return value

    for section in ("card", "server", "calls", "fax", "recordings", "media", "pri", "sms"):
        if section in data and not isinstance(data[section], dict):
            raise doc.error(f"[{section}] must be a table, not {data[section]!r}", (section,))
    for section in ("line", "span", "token", "group"):
        if section in data and not (isinstance(data[section], list) and all(
                isinstance(t, dict) for t in data[section])):
            raise doc.error(f"{section} must be [[{section}]] tables", (section,))

    card = data.get("card", {})
    reject_unknown_keys(doc, card, {"url", "network", "zone"}, ("card",))
    if "url" in card:
        if not isinstance(card["url"], str):
            raise doc.error("card.url must be a string", ("card", "url"))
        name, _, arg = card["url"].partition(":")
        cfg.card_url = f"{name}:{rel(arg)}" if arg else name
    if "network" in card:
        cfg.network = path_of(card, "network", ("card",))
    if "zone" in card:
        cfg.zone = _zone(doc, card["zone"])
    for i, line in enumerate(data.get("line", [])):
        path = ("line", i)
        reject_unknown_keys(doc, line, {"channels", "answer_on_polarity", "caller_id"}, path)
        chans = _channel_entries(doc, line.get("channels"), (*path, "channels"))
        options: dict[str, Any] = {}
        if "answer_on_polarity" in line:
            if not isinstance(line["answer_on_polarity"], bool):
                raise doc.error("answer_on_polarity must be true or false",
                                (*path, "answer_on_polarity"))
            options["answer_on_polarity"] = line["answer_on_polarity"]
        if "caller_id" in line:
            if line["caller_id"] not in ("", "bell202", "v23"):
                raise doc.error("caller_id must be \"bell202\", \"v23\" or \"\" (none)",
                                (*path, "caller_id"))
            options["caller_id"] = line["caller_id"]
        cfg.lines.append((chans, options))
        cfg.group_lines[f"[[line]] {i + 1}"] = doc.index.line_of((*path, "channels"))
    for i, table in enumerate(data.get("span", [])):
        number, spec = _span_signalling(doc, table, ("span", i))
        if number in cfg.spans:
            raise doc.error(f"span {number} has two [[span]] tables", ("span", i, "span"))
        cfg.spans[number] = spec
        cfg.span_lines[number] = doc.index.line_of(("span", i, "span"))
    server = data.get("server", {})
    reject_unknown_keys(doc, server, {"socket", "tcp", "tls_cert", "tls_key", "queue_limit",
                                      "metrics", *_SLOT_KEYS}, ("server",))
    _slots(doc, server, cfg)
    if "socket" in server:
        cfg.socket = path_of(server, "socket", ("server",))
    if "tcp" in server:
        cfg.tcp = _address(doc, server["tcp"], ("server", "tcp"))
    if ("tls_cert" in server) != ("tls_key" in server):
        raise doc.error("TLS needs both tls_cert and tls_key", ("server",))
    if "tls_cert" in server:
        cfg.tls = (str(path_of(server, "tls_cert", ("server",))),
                   str(path_of(server, "tls_key", ("server",))))
    if "queue_limit" in server:
        q = server["queue_limit"]
        if isinstance(q, bool) or not isinstance(q, int) or not 10 <= q <= 1_000_000:
            raise doc.error("queue_limit must be a whole number 10..1000000",
                            ("server", "queue_limit"))
        cfg.queue_limit = q
    if "metrics" in server:
        cfg.metrics = _address(doc, server["metrics"], ("server", "metrics"))
    for i, tok in enumerate(data.get("token", [])):
        path = ("token", i)
        reject_unknown_keys(doc, tok, {"token", "token_file", "role"}, path)
        if tok.get("role") not in ROLES:
            raise doc.error(f"role must be one of {', '.join(ROLES)}, not {tok.get('role')!r}",
                            (*path, "role"))
        if "token_file" in tok:
            # The error names the file as resolved: the relative name alone left the
            # reader to guess which folder it was looked for in (issue 15).
            file = path_of(tok, "token_file", path).resolve()
            given = "" if Path(tok["token_file"]).is_absolute() else (
                f" ({tok['token_file']!r} is relative to the configuration's folder)")
            try:
                secret = file.read_text().strip()
            except OSError as err:
                raise doc.error(f"[[token]] token_file: cannot read {file}{given}: "
                                f"{err.strerror or err}", (*path, "token_file")) from err
        else:
            secret = tok.get("token")
        if not isinstance(secret, str) or len(secret) < 16:
            raise doc.error("a token must be a string of at least 16 characters",
                            (*path, "token"))
        if cfg.tokens.get(secret, tok["role"]) != tok["role"]:
            # one secret, two roles: the later silently won (the secret is not shown)
            raise doc.error(f"this token is already given the role {cfg.tokens[secret]!r} "
                            f"by an earlier [[token]]; one token has one role",
                            (*path, "role"))
        cfg.tokens[secret] = tok["role"]
    if cfg.tcp is not None and not cfg.tokens:
        raise doc.error("server.tcp needs at least one [[token]]: TCP clients must "
                        "authenticate", ("server", "tcp"))
    calls = data.get("calls", {})
    reject_unknown_keys(doc, calls, {"inbound_timeout", "reject_cause", "shutdown_grace"},
                        ("calls",))
    for key in ("inbound_timeout", "shutdown_grace"):
        if key in calls:
            v = calls[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 3600:
                raise doc.error(f"{key} must be seconds in (0, 3600]", ("calls", key))
            setattr(cfg, key, float(v))
    if "reject_cause" in calls:
        v = calls["reject_cause"]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 127:
            raise doc.error("reject_cause must be a Q.850 cause 1..127",
                            ("calls", "reject_cause"))
        cfg.reject_cause = v
    fax = data.get("fax", {})
    reject_unknown_keys(doc, fax, {"spool", "documents"}, ("fax",))
    if "spool" in fax:
        cfg.fax_spool = path_of(fax, "spool", ("fax",))
    if "documents" in fax:
        cfg.fax_documents = path_of(fax, "documents", ("fax",))
    media = data.get("media", {})
    reject_unknown_keys(doc, media, {"prompts"}, ("media",))
    if "prompts" in media:
        cfg.prompts = path_of(media, "prompts", ("media",))
    recordings = data.get("recordings", {})
    reject_unknown_keys(doc, recordings, {"root"}, ("recordings",))
    if "root" in recordings:
        cfg.recordings_root = path_of(recordings, "root", ("recordings",))
    sms = data.get("sms", {})
    reject_unknown_keys(doc, sms, {"store"}, ("sms",))
    if "store" in sms:
        cfg.sms_store = path_of(sms, "store", ("sms",))
    if "sim_limits" in data:
        from trunkline.gateway.sms.limits import parse_limits

        cfg.sim_limits = parse_limits(doc, data["sim_limits"])
    if "webrtc" in data:
        from trunkline.gateway.webrtc.settings import parse_webrtc

        cfg.webrtc = parse_webrtc(doc, data["webrtc"])
    pri = data.get("pri", {})
    reject_unknown_keys(doc, pri, {"switchtype", "trace"}, ("pri",))
    if "switchtype" in pri:
        cfg.pri_switchtype = text_of(pri, "switchtype", ("pri",))
    if "trace" in pri:
        cfg.pri_trace = flag_of(pri, "trace", ("pri",))
    if "group" in data:
        groups: dict[str, list[Any]] = {}
        for i, g in enumerate(data["group"]):
            path = ("group", i)
            reject_unknown_keys(doc, g, {"name", "channels", "order"}, path)
            if not isinstance(g.get("name"), str) or not g["name"]:
                raise doc.error("a group needs a name", path)
            if g["name"] in groups:
                # the later table replaced the earlier one without a word: its channels
                # were never dialled (second red-team pass, issue 15)
                raise doc.error(f"group {g['name']!r} has two [[group]] tables (the first "
                                f"at line {cfg.group_lines[g['name']]}): merge their "
                                "channels into one", (*path, "name"))
            groups[g["name"]] = _channel_entries(doc, g.get("channels"), (*path, "channels"))
            cfg.group_lines[g["name"]] = doc.index.line_of((*path, "channels"))
            if "order" in g:
                if g["order"] not in ORDERS:
                    raise doc.error(f"order must be one of {', '.join(ORDERS)}, not "
                                    f"{g['order']!r}", (*path, "order"))
                cfg.group_order[g["name"]] = g["order"]
        cfg.groups = groups
    return cfg


def load_config(path: str | Path | None) -> GatewayConfig:
    if path is None:
        return GatewayConfig()
    path = Path(path)
    return parse_config(load_toml(path), path.parent)


def config_from_string(text: str) -> GatewayConfig:
    return parse_config(parse_toml(text, "<string>"))


__all__ = ["ConfigError", "GatewayConfig", "config_from_string", "load_config"]
