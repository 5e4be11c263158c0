"""Per-SIM limits: the rules one by one, the TOML errors, and a state machine that no
sequence of requests, call ends, time jumps and restarts can push past any limit."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from trunkline.errors import ConfigError
from trunkline.gateway.sms.limits import (
    DAY,
    HOUR,
    LimitExceeded,
    LimitPolicy,
    SimLimits,
    parse_limits,
)
from trunkline.gateway.sms.store import SmsStore
from trunkline.tomlconf import parse_toml

T0 = 1_790_000_000.0
MODS = [("gsm1", "8986001"), ("gsm2", "8986002"), ("gsm3", "8986003")]


def test_sms_per_hour_is_a_rolling_window():
    lim = SimLimits({"g": LimitPolicy(sms_per_hour=2)})
    one = [MODS[0]]
    lim.acquire("g", "sms", one, T0)
    lim.acquire("g", "sms", one, T0 + 10)
    with pytest.raises(LimitExceeded, match=r"sms_per_hour = 2 reached \(2 in the last hour"
                       ) as err:
        lim.acquire("g", "sms", one, T0 + 3599)
    assert err.value.retry_at == T0 + HOUR
    assert lim.acquire("g", "sms", one, T0 + HOUR).sim == "8986001"


def test_parts_count_and_a_message_longer_than_the_limit_never_fits():
    lim = SimLimits({"g": LimitPolicy(sms_per_hour=3)})
    lim.acquire("g", "sms", [MODS[0]], T0, count=2)
    with pytest.raises(LimitExceeded):
        lim.acquire("g", "sms", [MODS[0]], T0, count=2)
    with pytest.raises(LimitExceeded, match="allows no 4 parts") as err:
        lim.acquire("g", "sms", [MODS[1]], T0, count=4)
    assert err.value.retry_at is None


def test_rotation_takes_the_least_recently_used_sim_within_limits():
    lim = SimLimits({"g": LimitPolicy(calls_per_hour=1)})
    picks = []
    for i in range(3):
        g = lim.acquire("g", "call", MODS, T0 + i)
        lim.call_ended(g.sim, T0 + i + 0.5)
        picks.append(g.module)
    assert picks == ["gsm1", "gsm2", "gsm3"]
    with pytest.raises(LimitExceeded) as err:
        lim.acquire("g", "call", MODS, T0 + 10)
    assert set(err.value.reasons) == {"8986001 (gsm1)", "8986002 (gsm2)", "8986003 (gsm3)"}
    assert "no SIM of group 'g' may take more calls now" in str(err.value)


def test_rest_between_calls_runs_from_the_end_of_the_last():
    lim = SimLimits({"g": LimitPolicy(call_rest=60)})
    g = lim.acquire("g", "call", [MODS[0]], T0)
    with pytest.raises(LimitExceeded, match="a call is up"):
        lim.acquire("g", "call", [MODS[0]], T0 + 100)
    lim.call_ended(g.sim, T0 + 100)
    with pytest.raises(LimitExceeded, match="call_rest = 60 s") as err:
        lim.acquire("g", "call", [MODS[0]], T0 + 130)
    assert err.value.retry_at == T0 + 160
    lim.acquire("g", "call", [MODS[0]], T0 + 160)


def test_a_restart_keeps_the_counts(tmp_path):
    store = SmsStore(tmp_path / "sms.sqlite")
    lim = SimLimits({"g": LimitPolicy(sms_per_day=2, call_rest=300)})
    for t in (T0, T0 + 1):
        store.add_grant(lim.acquire("g", "sms", [MODS[0]], t))
    store.add_grant(lim.acquire("g", "call", [MODS[1]], T0 + 2))  # cut by the restart
    store.close()
    store = SmsStore(tmp_path / "sms.sqlite")
    again = SimLimits({"g": LimitPolicy(sms_per_day=2, call_rest=300)})
    now = T0 + 50
    again.restore(store.grants(now - DAY), store.call_ends(), now)
    with pytest.raises(LimitExceeded, match="sms_per_day = 2 reached"):
        again.acquire("g", "sms", [MODS[0]], now)
    # The call's end was never stored: its rest counts from the restart.
    with pytest.raises(LimitExceeded, match="call_rest"):
        again.acquire("g", "call", [MODS[1]], now + 299)
    again.acquire("g", "call", [MODS[1]], now + 300)


@pytest.mark.parametrize("text, match", [
    ("[sim_limits.gsm]\nsms_per_hour = -1\n", r"<cfg>:2: sms_per_hour must be a whole number"),
    ("[sim_limits.gsm]\nsms_per_hour = true\n", r"<cfg>:2: sms_per_hour must be"),
    ("[sim_limits.gsm]\ncalls_per_hour = 5\ncall_gap = 3\n",
     r"<cfg>:3: unknown key 'call_gap' in \[sim_limits.gsm\]"),
    ("[sim_limits.gsm]\ncall_rest = \"30\"\n", r"<cfg>:2: call_rest must be a number"),
    ("sim_limits = 3\n", r"<cfg>:1: \[sim_limits\] must be a table"),
])
def test_config_errors_name_the_field_and_line(text, match):
    doc = parse_toml(text, "<cfg>")
    with pytest.raises(ConfigError, match=match):
        parse_limits(doc, doc.data["sim_limits"])


def test_config_reads_every_field():
    doc = parse_toml("[sim_limits.gsm]\ncalls_per_hour = 12\ncalls_per_day = 80\n"
                     "sms_per_hour = 30\nsms_per_day = 200\ncall_rest = 45.5\n", "<cfg>")
    assert parse_limits(doc, doc.data["sim_limits"]) == {
        "gsm": LimitPolicy(12, 80, 30, 200, 45.5)}


# -- the state machine ---------------------------------------------------------------------
policies = st.builds(
    LimitPolicy,
    calls_per_hour=st.none() | st.integers(0, 4), calls_per_day=st.none() | st.integers(0, 8),
    sms_per_hour=st.none() | st.integers(0, 5), sms_per_day=st.none() | st.integers(0, 10),
    call_rest=st.sampled_from([0.0, 30.0, 600.0]))


class LimitsMachine(RuleBasedStateMachine):
    """An independent model (every grant with its time, every call with its end) checks
    each answer of the limits: a grant is within every limit, a refusal is right for
    every candidate, and the pick is the least recently used allowed SIM."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile
        from pathlib import Path

        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "sms.sqlite"
        self.store = SmsStore(self.path, durable=False)

    def teardown(self) -> None:
        self.store.close()
        self.dir.cleanup()

    @initialize(policy=policies)
    def setup(self, policy: LimitPolicy) -> None:
        self.policy = policy
        self.limits = SimLimits({"g": policy})
        self.now = T0
        self.grants: dict[str, list[tuple[float, str, int]]] = {s: [] for _, s in MODS}
        self.calls: dict[str, list[list[float | None]]] = {s: [] for _, s in MODS}
        self.last_used: dict[str, float] = {}

    # the model's own reading of the rules
    def _allowed(self, sim: str, kind: str, count: int) -> bool:
        p = self.policy
        limits = ((p.calls_per_hour, HOUR), (p.calls_per_day, DAY)) if kind == "call" else \
            ((p.sms_per_hour, HOUR), (p.sms_per_day, DAY))
        for limit, window in limits:
            if limit is None:
                continue
            used = sum(n for at, k, n in self.grants[sim] if k == kind and self.now - at < window)
            if used + count > limit:
                return False
        if kind == "call" and self.calls[sim]:
            end = self.calls[sim][-1][1]
            if end is None or self.now < end + p.call_rest:
                return False
        return True

    def _request(self, kind: str, count: int, which: list[int]) -> None:
        cands = [MODS[i] for i in which]
        try:
            grant = self.limits.acquire("g", kind, cands, self.now, count)
        except LimitExceeded:
            assert not any(self._allowed(s, kind, count) for _, s in cands)
            return
        allowed = [s for _, s in cands if self._allowed(s, kind, count)]
        assert grant.sim in allowed
        lru = min(self.last_used.get(s, float("-inf")) for s in allowed)
        assert self.last_used.get(grant.sim, float("-inf")) == lru
        self.store.add_grant(grant)
        self.grants[grant.sim].append((self.now, kind, count))
        self.last_used[grant.sim] = self.now
        if kind == "call":
            self.calls[grant.sim].append([self.now, None])

    @rule(seconds=st.sampled_from([0.0, 1.0, 29.0, 31.0, 599.0, 601.0, 1800.0, 3599.0,
                                   3600.0, 43200.0, 86399.0, 86400.0]))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @rule(count=st.integers(1, 4), which=st.lists(st.integers(0, 2), min_size=1, max_size=3,
                                                  unique=True))
    def send_sms(self, count: int, which: list[int]) -> None:
        self._request("sms", count, which)

    @rule(which=st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True))
    def place_call(self, which: list[int]) -> None:
        self._request("call", 1, which)

    @rule(i=st.integers(0, 2))
    def end_call(self, i: int) -> None:
        sim = MODS[i][1]
        if self.calls[sim] and self.calls[sim][-1][1] is None:
            self.calls[sim][-1][1] = self.now
            self.limits.call_ended(sim, self.now)
            self.store.call_ended(sim, self.now)

    @rule()
    def restart(self) -> None:
        # The calls up are cleared by the restart: they end now at the latest.
        for _, sim in MODS:
            if self.calls[sim] and self.calls[sim][-1][1] is None:
                self.calls[sim][-1][1] = self.now
        self.store.close()
        self.store = SmsStore(self.path, durable=False)
        self.limits = SimLimits({"g": self.policy})
        for sim, end in self.limits.restore(self.store.grants(self.now - DAY),
                                            self.store.call_ends(), self.now):
            self.store.call_ended(sim, end)

    @invariant()
    def never_over_a_limit(self) -> None:
        if not hasattr(self, "policy"):
            return
        p = self.policy
        for _, sim in MODS:
            for kind, per_hour, per_day in (("call", p.calls_per_hour, p.calls_per_day),
                                            ("sms", p.sms_per_hour, p.sms_per_day)):
                log = [(at, n) for at, k, n in self.grants[sim] if k == kind]
                for t, _ in log:
                    for limit, window in ((per_hour, HOUR), (per_day, DAY)):
                        if limit is not None:
                            assert sum(n for at, n in log if t - window < at <= t) <= limit
            calls = self.calls[sim]
            for (_, end), (start, _) in itertools.pairwise(calls):
                assert end is not None and start >= end + p.call_rest


LimitsMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_limits_state_machine = LimitsMachine.TestCase
