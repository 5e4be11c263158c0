"""SS7 signalling as our own sans-IO stack: MTP2 (Q.703), MTP3 (Q.704, Q.707), ISUP
(Q.763, Q.764), in the ITU variant (14-bit point codes) and China's national one (24-bit
point codes, GF 001-9001), because Debian's libss7 masks point codes to 14 bits.

Importing this package loads no native code. Modules: :mod:`.mtp2`, :mod:`.mtp3`,
:mod:`.messages` (ISUP codecs), :mod:`.isup` (circuits and calls, the Q.764 table),
:mod:`.point` (:class:`Ss7Point`, one signalling point: what a module drives),
:mod:`.leg` (the call legs), :mod:`.router` (legs <-> point), :mod:`.actions`,
:mod:`.events`, :mod:`.config`, :mod:`.pair` (two points over DAHDI-like lines, in
virtual time), :mod:`.errors`.
"""

from .actions import SendAcm as SendAcm
from .actions import SendAnm as SendAnm
from .actions import SendIam as SendIam
from .actions import SendRel as SendRel
from .config import CircuitMap as CircuitMap
from .config import IsupTimers as IsupTimers
from .config import Ss7Config as Ss7Config
from .errors import Ss7CallStateError as Ss7CallStateError
from .errors import Ss7CodecError as Ss7CodecError
from .errors import Ss7ConfigError as Ss7ConfigError
from .errors import Ss7Error as Ss7Error
from .errors import Ss7LinkDown as Ss7LinkDown
from .errors import Ss7NoCircuit as Ss7NoCircuit
from .leg import Ss7InboundLeg as Ss7InboundLeg
from .leg import Ss7Leg as Ss7Leg
from .pair import PointPair as PointPair
from .point import Ss7Point as Ss7Point
from .router import LegRouter as LegRouter

__all__ = [
    "CircuitMap", "IsupTimers", "LegRouter", "PointPair", "SendAcm", "SendAnm", "SendIam",
    "SendRel", "Ss7CallStateError", "Ss7CodecError", "Ss7Config", "Ss7ConfigError",
    "Ss7Error", "Ss7InboundLeg", "Ss7Leg", "Ss7LinkDown", "Ss7NoCircuit", "Ss7Point",
]
