"""ISDN PRI call control over libpri, on any E1 span of the driver model.

Importing this package loads no native code; the libpri binding is built and loaded
when the first :class:`PriSpan` is created.

Modules: :mod:`.span` (the span controller: libpri glue and event dispatch),
:mod:`.config` (a span's validated settings), :mod:`.numbers` (party numbers),
:mod:`.channels` (the B-channel table and hunting), :mod:`.maintenance` (RESTART and
SERVICE), :mod:`.records` (call records and ids), :mod:`.group` (hunting across spans
and groups, glare retries), :mod:`.exchange` (a scripted network side for emulated
spans), :mod:`.link` (the HDLC link contract and an in-memory pair), :mod:`.causes`
(Q.850), :mod:`.events`, :mod:`.callstate` (the transition table), :mod:`.trace`,
:mod:`.errors`. Only :mod:`.span` (and what uses it) needs libpri.
"""

from trunkline.causes import CauseOutcome as CauseOutcome
from trunkline.causes import cause_name as cause_name
from trunkline.causes import classify_cause as classify_cause
from trunkline.causes import outcome_for_cause as outcome_for_cause

from .config import E1_CHANNELS as E1_CHANNELS
from .config import SWITCH_TYPES as SWITCH_TYPES
from .config import T1_CHANNELS as T1_CHANNELS
from .config import SpanConfig as SpanConfig
from .errors import LibpriError as LibpriError
from .errors import PriCallStateError as PriCallStateError
from .errors import PriConfigError as PriConfigError
from .errors import PriError as PriError
from .errors import PriLinkDown as PriLinkDown
from .errors import PriNoChannel as PriNoChannel
from .errors import PriNumberError as PriNumberError
from .errors import PriUnsupported as PriUnsupported
from .exchange import Exchange as Exchange
from .exchange import ExchangeCallChanged as ExchangeCallChanged
from .exchange import PriScript as PriScript
from .group import SpanGroup as SpanGroup
from .link import HdlcLink as HdlcLink
from .link import LinkPair as LinkPair
from .records import CallInfo as CallInfo
from .span import PriSpan as PriSpan
from .trace import Q931Message as Q931Message
from .trace import Q931Tracer as Q931Tracer

__all__ = [
    "E1_CHANNELS",
    "SWITCH_TYPES",
    "T1_CHANNELS",
    "CallInfo",
    "CauseOutcome",
    "Exchange",
    "ExchangeCallChanged",
    "HdlcLink",
    "LibpriError",
    "LinkPair",
    "PriCallStateError",
    "PriConfigError",
    "PriError",
    "PriLinkDown",
    "PriNoChannel",
    "PriNumberError",
    "PriScript",
    "PriSpan",
    "PriUnsupported",
    "Q931Message",
    "Q931Tracer",
    "SpanConfig",
    "SpanGroup",
    "cause_name",
    "classify_cause",
    "outcome_for_cause",
]
