"""Pacers: how many calls a campaign should place now.

The engine builds a :class:`PacingView` of one campaign (ready agents, agents talking or
in wrap-up with their elapsed times, dials in flight with their elapsed times, live
answers waiting) and asks the campaign's pacer for a number of dials. The engine then
clamps that number to the hard limits (the regime's abandon cap, the line cap) and places
the calls. Pacers never see contacts, calls or the clock; they are pure arithmetic.

- :class:`RatioPacer`: progressive and power, ``round(ratio * ready) - in flight``.
- :class:`ModelPacer`: precise and predictive. For a candidate dial, it estimates the
  chance that its live answer would find no agent: agents freeing by the answer time
  (from each agent's state, elapsed time and the learned talk and wrap-up distributions)
  against live answers arriving first (from each pending dial's elapsed ring time, the
  learned ring-time distribution and answer probability, plus the other new dials). It
  places every dial whose risk is within a limit ``alpha``; a feedback loop moves
  ``alpha`` so the measured rate tracks the target on the regime's window.
- :class:`VicidialPacer`: the reference to beat, VICIdial's published adaptive method.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trunkline.dialer.pacing.learning import CampaignModel

_K = 5
_QS = (np.arange(_K) + 0.5) / _K  # quantiles of a new dial's live-answer time


@dataclass(slots=True)
class PacingView:
    """One campaign as the pacer sees it at ``now``."""

    now: float
    ready: int                  # ready agents this campaign may count on
    waiting: int                # live answers waiting for an agent
    in_flight: int              # unresolved dials with no agent reserved
    pending: np.ndarray         # their elapsed seconds (model pacers only, else empty)
    talking: np.ndarray         # elapsed talk seconds of each agent on a call
    wrapping: np.ndarray        # elapsed wrap-up seconds of each agent in wrap-up
    agents: int                 # agents logged in and not paused
    connected: int              # calls talking to this campaign's agents
    room: int                   # the most dials the hard limits allow now


@dataclass(slots=True)
class Decision:
    dials: int
    reason: str
    alpha: float | None = None
    risk_next: float | None = None
    expected_free: float | None = None
    expected_answers: float | None = None


class Pacer:
    """Base pacer: dials nothing. Subclasses override :meth:`decide`."""

    def decide(self, view: PacingView) -> Decision:
        return Decision(0, "agent-driven mode")

    def on_live_outcome(self, now: float, *, at_once: bool, abandoned: bool,
                        window_live: float, window_abandoned: float) -> None:
        """A live answer was settled: connected at once, connected late, or abandoned."""

    def on_connect(self, now: float, agent_wait: float) -> None:
        """A call was put through to an agent who had waited ``agent_wait`` seconds."""


class RatioPacer(Pacer):
    """Progressive (whole ratio) and power (fractional): lines per ready agent.

    ``round(ratio * ready)`` lines are kept in flight, halves rounded up, so 1.5:1 gives 2
    lines for one free agent and 3 for two.
    """

    def __init__(self, ratio: float) -> None:
        self.ratio = ratio

    def decide(self, view: PacingView) -> Decision:
        want = math.floor(self.ratio * view.ready + 0.5) - view.in_flight - view.waiting
        return Decision(max(want, 0), f"ratio {self.ratio:g} x {view.ready} ready")


def _phi_exact(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7)."""
    z = np.abs(x) * (1.0 / math.sqrt(2.0))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.where(x >= 0, erf, -erf))


_Z = np.linspace(-9.0, 9.0, 18_001)
_PHI = _phi_exact(_Z)


def _phi(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF by interpolation in a table (one numpy call per decision)."""
    return np.interp(x, _Z, _PHI)


class RiskController:
    """The outer loop: moves the per-dial risk limit so a measured rate tracks a setpoint.

    Stochastic approximation in log space: each settled live answer raises ``alpha`` by
    ``eta * s`` when it went well and lowers it by ``eta * (1 - s)`` when it did not, so
    ``alpha`` is stationary exactly when the bad share equals ``s``. The setpoint itself is
    pulled below the target while the window's rate so far is above it ("when ahead,
    tighten"), over roughly ``recovery`` live answers.
    """

    def __init__(self, target: float, *, alpha: float, eta: float = 0.15,
                 margin: float = 0.05, recovery: float = 300.0,
                 bounds: tuple[float, float] = (1e-4, 0.6)) -> None:
        self.target = target
        self.log_alpha = math.log(alpha)
        self.eta = eta
        self.margin = margin
        self.recovery = recovery
        self.lo, self.hi = math.log(bounds[0]), math.log(bounds[1])
        self.setpoint = target * (1 - margin)

    @property
    def alpha(self) -> float:
        return math.exp(self.log_alpha)

    def observe(self, bad: bool, window_count: float, window_bad: float) -> None:
        base = self.target * (1.0 - self.margin)
        excess = window_bad - self.target * window_count  # > 0: window above target
        s = base - max(excess, 0.0) / self.recovery
        self.setpoint = s = min(max(s, 0.2 * base), base)
        step = -self.eta * (1.0 - s) if bad else self.eta * s
        self.log_alpha = min(max(self.log_alpha + step, self.lo), self.hi)


class WaitController:
    """Predictive mode's agent-wait objective: a second risk limit that moves so the
    mean time agents wait between calls tracks ``target`` seconds.

    Why a second limit, not a new setpoint for the abandon loop: the abandon target is
    the site's promise to the regulator, the wait a productivity goal. The pacer dials
    at the lower of the two limits, so a long wait raises this one only up to the
    abandon loop's limit (it is held there: no wind-up while abandons bind), and a wait
    shorter than the target lowers it below, giving up a little occupancy for fewer
    abandons, which is what a site setting a wait target asks for.

    Each connect moves ``log(alpha)`` by ``eta`` times the wait's relative error, clipped
    to [-1, 1]: stationary when waits average the target (Robbins-Monro in log space,
    as :class:`RiskController`).
    """

    def __init__(self, target: float, *, alpha: float, eta: float = 0.1,
                 bounds: tuple[float, float] = (1e-4, 0.6)) -> None:
        self.target = target
        self.log_alpha = math.log(alpha)
        self.eta = eta
        self.lo, self.hi = math.log(bounds[0]), math.log(bounds[1])
        self.waits = 0
        self.mean_wait = 0.0

    @property
    def alpha(self) -> float:
        return math.exp(self.log_alpha)

    def observe(self, wait: float, ceiling: float) -> None:
        """One connect after ``wait`` seconds; ``ceiling`` is the abandon loop's limit."""
        self.waits += 1
        self.mean_wait += (wait - self.mean_wait) / self.waits
        error = (wait - self.target) / max(self.target, 1.0)
        step = self.eta * min(max(error, -1.0), 1.0)
        hi = min(self.hi, math.log(ceiling))
        self.log_alpha = min(max(self.log_alpha + step, self.lo), hi)


class _Table:
    """``P(done within the horizons | elapsed)`` on a grid of elapsed times, with the
    Bernoulli variance beside it, so a decision is one fancy-index and one sum."""

    __slots__ = ("inv_step", "last", "values")

    def __init__(self, step: float, upper: float) -> None:
        self.inv_step = 1.0 / step
        self.last = int(upper / step)
        self.values = np.zeros((self.last + 1, 2 * _K))

    @property
    def grid(self) -> np.ndarray:
        return np.arange(self.last + 1, dtype=float)[:, None] / self.inv_step

    def fill(self, q: np.ndarray) -> None:
        self.values = np.hstack((q, q * (1.0 - q)))

    def sums(self, elapsed: np.ndarray) -> np.ndarray:
        """Sum over items of [P(done by h_k), its variance] for each horizon: (2K,)."""
        idx = (elapsed * self.inv_step + 0.5).astype(np.intp)
        np.minimum(idx, self.last, out=idx)
        return self.values[idx].sum(axis=0)


class ModelPacer(Pacer):
    """Precise and predictive pacing from the learned campaign model.

    ``grace`` is how long a live answer may wait for an agent: 0 in precise mode (an agent
    must be free at once), the abandon delay (2 s) in predictive mode. ``precise``
    selects what the controller counts as bad: in precise mode every answer that found no
    agent at once, in predictive mode only abandons.

    The model's distributions move slowly, so the per-item probabilities are tabulated
    on a grid of elapsed times and refreshed every ``refresh`` seconds.
    """

    def __init__(self, model: CampaignModel, controller: RiskController, *, grace: float,
                 precise: bool, refresh: float = 30.0,
                 wait: WaitController | None = None) -> None:
        self.model = model
        self.controller = controller
        self.wait = wait
        self.grace = grace
        self.precise = precise
        self.refresh = refresh
        self._live = 0.0  # precise mode counts its own "no agent at once" share
        self._late = 0.0
        self._fresh_until = -math.inf
        self._talk = _Table(2.0, 1_800.0)
        self._wrap = _Table(0.5, 600.0)
        self._ring = _Table(0.5, 60.0)
        self._b = np.zeros(_K)

    def _tabulate(self, now: float) -> None:
        m = self.model
        t = m.ring.quantiles(_QS)             # when a new dial's live answer comes
        h = t + self.grace                    # by when an agent must be free for it
        self._talk.fill(m.talk.finished_within(self._talk.grid, (h - m.wrap.mean)[None, :]))
        self._wrap.fill(m.wrap.finished_within(self._wrap.grid, h[None, :]))
        self._ring.fill(m.live_within(self._ring.grid, t[None, :]))
        self._b = m.answer_probability * _QS  # another new dial is answered live first
        self._fresh_until = now + self.refresh

    def decide(self, view: PacingView) -> Decision:
        if view.room <= 0:
            return Decision(0, "hard limit: no room")
        if view.now >= self._fresh_until:
            self._tabulate(view.now)
        # stats[:K]: expected agents free minus live answers ahead, by horizon; [K:]: var
        stats = np.zeros(2 * _K)
        if len(view.talking):
            stats += self._talk.sums(view.talking)
        if len(view.wrapping):
            stats += self._wrap.sums(view.wrapping)
        free = float(view.ready) + stats[:_K].sum() / _K
        if len(view.pending):
            ring = self._ring.sums(view.pending)
            stats[:_K] -= ring[:_K]
            stats[_K:] += ring[_K:]
        mu0 = stats[:_K] + (view.ready - view.waiting)
        var0 = stats[_K:] + 1e-4
        b = self._b
        alpha = self.alpha
        rows = view.room
        if alpha * _K < 0.5 and b[-1] > 0:
            # risk(n) >= phi_last(n) / K, which passes alpha once mu_last(n) < 0.5
            rows = min(rows, max(int((mu0[-1] - 0.5) / b[-1]) + 2, 1))
        n = np.arange(rows, dtype=float)[:, None]
        z = (0.5 - mu0 + n * b) / np.sqrt(var0 + n * (b * (1.0 - b)))
        risk = _phi(z).sum(axis=1) * (1.0 / _K)  # the risk of dial number n + 1
        dials = int(np.count_nonzero(risk <= alpha))
        # dials that ready agents certainly take carry no risk, whatever the normal
        # approximation says for small counts: never pace below progressive
        dials = max(dials, min(view.ready - view.waiting - view.in_flight, view.room))
        if dials >= view.room:
            reason, nxt = "hard limit reached before the risk limit", None
        elif dials >= rows:
            reason, nxt = "risk limit", None
        else:
            reason, nxt = "risk limit", float(risk[dials])
        return Decision(dials, reason, alpha=alpha, risk_next=nxt, expected_free=free,
                        expected_answers=view.waiting + (float(ring[:_K].sum()) / _K
                                                         if len(view.pending) else 0.0))

    @property
    def alpha(self) -> float:
        """The risk limit dials are held to: the abandon loop's, or the agent-wait
        loop's when that is lower."""
        if self.wait is None:
            return self.controller.alpha
        return min(self.controller.alpha, self.wait.alpha)

    def on_connect(self, now: float, agent_wait: float) -> None:
        if self.wait is not None:
            self.wait.observe(agent_wait, self.controller.alpha)

    def on_live_outcome(self, now: float, *, at_once: bool, abandoned: bool,
                        window_live: float, window_abandoned: float) -> None:
        if self.precise:
            self._live += 1.0
            self._late += 0.0 if at_once else 1.0
            self.controller.observe(not at_once, self._live, self._late)
        else:
            self.controller.observe(abandoned, window_live, window_abandoned)


class VicidialPacer(Pacer):
    """VICIdial's adaptive method (AST_VDadapt.pl as described in dialer-anchors.md).

    Samples ready agents and waiting calls every pacing tick; every 15 s multiplies the
    dial level by ``1 + (avg ready - avg waiting) / avg agents``, clamped to [1, max];
    when today's drop rate (drops / live answers, after 50 calls) passes the limit the
    level is halved (``average``) or set to 1.0 (``hard_limit``); more than 20 calls in
    the last minute with over half dropped also halves it. Lines placed:
    ``round(level * agents) - active calls`` (dialing, waiting and talking).
    """

    def __init__(self, *, limit: float, max_level: float, drop_action: str,
                 day_of: Callable[[float], int]) -> None:
        self.level = 1.0
        self.limit = limit
        self.max_level = max_level
        self.drop_action = drop_action
        self._day_of = day_of
        self._samples: deque[tuple[int, int, int]] = deque(maxlen=15)
        self._next_adapt: float | None = None
        self._day: int | None = None
        self._day_calls = 0
        self._day_drops = 0
        self._minute: deque[tuple[float, bool]] = deque()

    def decide(self, view: PacingView) -> Decision:
        now = view.now
        self._samples.append((view.ready, view.waiting, view.agents))
        if self._next_adapt is None:
            self._next_adapt = now + 15.0
        reason = "hold"
        if now >= self._next_adapt:
            self._next_adapt = now + 15.0
            reason = self._adapt(now)
        want = round(self.level * view.agents) - view.in_flight - view.waiting \
            - view.connected
        return Decision(max(min(want, view.room), 0), f"level {self.level:.2f}: {reason}")

    def _adapt(self, now: float) -> str:
        k = len(self._samples)
        ready = sum(s[0] for s in self._samples) / k
        waiting = sum(s[1] for s in self._samples) / k
        agents = sum(s[2] for s in self._samples) / k
        reason = "no agents"
        if agents > 0:
            m = (ready - waiting) / agents
            self.level = min(max(self.level * (1.0 + m), 1.0), self.max_level)
            reason = f"adapt by {m:+.3f}"
        self._roll_day(now)
        while self._minute and self._minute[0][0] < now - 60.0:
            self._minute.popleft()
        drops = sum(1 for _, d in self._minute if d)
        if len(self._minute) > 20 and drops > 0.5 * len(self._minute):
            self.level = max(self.level / 2.0, 1.0)
            reason = "last minute over half dropped: halved"
        if self._day_calls > 50 and self._day_drops / self._day_calls > self.limit:
            if self.drop_action == "hard_limit":
                self.level = 1.0
                reason = "day drop rate over limit: level 1.0"
            else:
                self.level = max(self.level / 2.0, 1.0)
                reason = "day drop rate over limit: halved"
        return reason

    def _roll_day(self, now: float) -> None:
        day = self._day_of(now)
        if day != self._day:
            self._day, self._day_calls, self._day_drops = day, 0, 0

    def on_live_outcome(self, now: float, *, at_once: bool, abandoned: bool,
                        window_live: float, window_abandoned: float) -> None:
        self._roll_day(now)
        self._day_calls += 1
        self._day_drops += int(abandoned)
        self._minute.append((now, abandoned))
