"""The scenarios whose wire traces are kept: every behaviour of the hil-tests' number plan
(hil-tests/network.toml) called over FXO and PRI, inbound calls on both, fax, recording
(by request and by policy), bridging with a supervisor listening, machine messages,
detection options and refused requests. The default emulated card: PRI spans 1-2
(channels 1-62), FXO ports 63-70 (69 and 70 without polarity reversal, 70 clears by
tone only), FXS ports 71-82."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from golden_kit import Ctx, Scenario

FXO_NO_POLARITY = 69
FXO_TONE_CLEAR = 70
AGENT = 71
SUPERVISOR = 72

#: The plan's behaviours: number, and a short name for the scenario.
BEHAVIOURS = [
    ("13800000001", "human"),
    ("13810000001", "human_music"),
    ("13900000001", "machine"),
    ("01050000001", "fax_answer"),
    ("01060000001", "modem"),
    ("13700000001", "busy"),
    ("13600000001", "no_answer"),
    ("13500000001", "congestion"),
    ("13400000001", "powered_off"),
    ("13300000001", "unreachable"),
    ("13000000001", "invalid_number"),
]


def _is(event: dict[str, Any], kind: str, **fields: Any) -> bool:
    return event.get("event") == kind and all(event.get(k) == v for k, v in fields.items())


def outbound(number: str, **params: Any):
    def start(ctx: Ctx) -> None:
        ctx.request("call.originate", number=number, ring_timeout=15.0, **params)
    return start


def _page(ctx: Ctx, name: str = "page.tif", seed: int = 3) -> str:
    from PIL import Image, ImageDraw

    path = Path(ctx.scratch) / name
    img = Image.new("1", (1728, 400), 1)
    draw = ImageDraw.Draw(img)
    for y in range(30, 380, 40):
        draw.text((80 + 7 * seed, y), f"trunkline golden fax {seed} line {y} " * 3, fill=0)
    img.save(path, compression="group4", dpi=(204, 196))
    return str(path)


# -- recording ---------------------------------------------------------------------------

def _record_on_answer(ctx: Ctx, event: dict[str, Any]) -> None:
    if _is(event, "call.state", state="answered"):
        ctx.request("call.record", call=event["call"], action="start",
                    path=str(Path(ctx.scratch) / "requested.wav"))


def _policy_start(ctx: Ctx) -> None:
    ctx.request("recording.policy", record_all=True)
    ctx.request("call.originate", number="13800000002", group="pri")


# -- bridging ----------------------------------------------------------------------------

def _bridge_start(ctx: Ctx) -> None:
    ctx.request("call.originate", number="agent", channel=AGENT)
    ctx.request("call.originate", number="supervisor", channel=SUPERVISOR)


def _bridge_react(ctx: Ctx, event: dict[str, Any]) -> None:
    memo = ctx.memo
    call, state = event.get("call"), event.get("state")
    if _is(event, "call.state", state="answered") and event.get("channel") in (AGENT,
                                                                               SUPERVISOR):
        memo[event["channel"]] = call
        if AGENT in memo and SUPERVISOR in memo and "customer" not in memo:
            memo["customer"] = "placing"
            ctx.request("call.originate", number="13800000003", group="pri")
    elif _is(event, "call.state", state="dialing") and memo.get("customer") == "placing":
        memo["customer"] = call
    elif _is(event, "amd") and call == memo.get("customer"):
        ctx.request("call.bridge", call=call, other=memo[AGENT])
        ctx.request("call.listen", call=memo[SUPERVISOR], target=call)
    elif _is(event, "call.state", state="bridged") and call == memo[AGENT] \
            and not memo.get("pressed"):
        memo["pressed"] = True
        ctx.network(lambda card: card.phone(AGENT).press("5#"))
    elif _is(event, "call.state", state="hungup") and call == memo.get("customer"):
        ctx.request("call.hangup", call=memo[AGENT])
        ctx.request("call.hangup", call=memo[SUPERVISOR])
    del state


# -- inbound -----------------------------------------------------------------------------

def _ring_fxo(channel: int, behaviour: str):
    def start(ctx: Ctx) -> None:
        from trunkline.drivers.backends.emulated.plan import Behaviour

        ctx.network(lambda card: card.line(channel).ring_in(Behaviour(behaviour)))
    return start


def _answer_offered(ctx: Ctx, event: dict[str, Any]) -> None:
    if _is(event, "call.offered"):
        ctx.request("call.answer", call=event["call"])


def _offer_pri(called: str, calling: str):
    def start(ctx: Ctx) -> None:
        ctx.network(lambda card: card._pri_network[1].exchange.originate(called, calling))
    return start


def _answer_play_hangup(ctx: Ctx, event: dict[str, Any]) -> None:
    if _is(event, "call.offered"):
        ctx.request("call.answer", call=event["call"])
    elif _is(event, "call.state", state="answered"):
        ctx.request("call.play", call=event["call"], digits="123")
    elif _is(event, "play.finished"):
        ctx.request("call.hangup", call=event["call"])


# -- fax ---------------------------------------------------------------------------------

def _fax_send(group: str):
    def start(ctx: Ctx) -> None:
        ctx.request("fax.send", number="01050000002", files=[_page(ctx)], group=group,
                    ident="+86 10 5550000", header="trunkline golden")
    return start


def _inbound_fax_start(ctx: Ctx) -> None:
    from trunkline.drivers.backends.emulated import fax_far_end

    fax_far_end.reset()
    ctx.memo["page"] = _page(ctx, "inbound.tif", seed=9)
    ctx.request("fax.route_add", name="sales", dnis="8800*",
                folder=str(Path(ctx.scratch) / "folder"))
    ctx.network(lambda card: card._pri_network[1].exchange.originate("88001234",
                                                                      "13912345678"))


def _inbound_fax_react(ctx: Ctx, event: dict[str, Any]) -> None:
    if _is(event, "call.state", state="answered"):
        from trunkline.drivers.backends.emulated import fax_far_end

        page = ctx.memo["page"]
        ctx.network(lambda card: card.port(event["channel"]).attach_live(
            fax_far_end.caller(page)))


# -- machine message ---------------------------------------------------------------------

def _message_react(ctx: Ctx, event: dict[str, Any]) -> None:
    if _is(event, "amd", result="machine"):
        ctx.request("call.play", call=event["call"], tone="dial", wait_silence=1.0)
    elif _is(event, "play.started"):
        ctx.memo["playing"] = event["call"]
    elif _is(event, "call.state", state="hungup") and "playing" in ctx.memo:
        pass


def _message_start(ctx: Ctx) -> None:
    ctx.request("call.originate", number="13900000002", group="pri")


def _stop_message_after_3s(ctx: Ctx, event: dict[str, Any]) -> None:
    _message_react(ctx, event)
    if _is(event, "play.started"):
        ctx.request("call.stop_play", call=event["call"])
        ctx.request("call.hangup", call=event["call"])


# -- refused requests --------------------------------------------------------------------

def _errors_start(ctx: Ctx) -> None:
    ctx.request("call.hangup", call=99999)
    ctx.request("call.originate", number="12a", group="fxo")
    ctx.request("call.originate", number="12a", group="pri")
    ctx.request("call.originate", number="123", group="nosuch")
    ctx.request("call.originate", number="13800000009", group="pri", detect={"beep": True})
    ctx.request("call.originate", number="13800000009", channel=999)
    ctx.request("call.play", call=1, tone="nosuch")
    ctx.request("call.bridge", call=1, other=1)
    ctx.request("channel.block", channel=63)
    ctx.request("call.originate", number="13800000009", channel=63)
    ctx.request("channel.unblock", channel=63)
    ctx.request("call.record", call=5, action="start")
    ctx.request("call.originate", number="13800000009", span=3)


#: The scenarios that name files put them in the scratch folder, so the gateway's
#: folders for client-named files (gateway/paths.py) are the scratch folder there.
IN_SCRATCH_RECORDINGS = {"recordings_root": lambda scratch: scratch}
IN_SCRATCH_FAX = {"fax_documents": lambda scratch: scratch}


def scenarios() -> list[Scenario]:
    out: list[Scenario] = []
    for number, name in BEHAVIOURS:
        for group in ("fxo", "pri"):
            out.append(Scenario(f"out_{group}_{name}", outbound(number, group=group)))
    out += [
        Scenario("out_fxo_no_polarity_human", outbound("13800000004",
                                                       channel=FXO_NO_POLARITY)),
        Scenario("out_fxo_no_polarity_machine", outbound("13900000004",
                                                         channel=FXO_NO_POLARITY)),
        Scenario("out_fxo_tone_clear_human", outbound("13810000004",
                                                      channel=FXO_TONE_CLEAR)),
        Scenario("out_pri_amd_off", outbound("13900000005", group="pri",
                                             detect={"amd": False})),
        Scenario("record_requested_fxo", outbound("13800000006", group="fxo"),
                 _record_on_answer, config=IN_SCRATCH_RECORDINGS),
        Scenario("record_policy_pri", _policy_start),
        Scenario("bridge_agent_and_supervisor", _bridge_start, _bridge_react),
        Scenario("in_fxo_answered", _ring_fxo(64, "human"), _answer_offered),
        Scenario("in_fxo_unclaimed", _ring_fxo(65, "human")),
        Scenario("in_pri_answered", _offer_pri("80002", "13912345679"), _answer_play_hangup),
        Scenario("in_pri_unclaimed", _offer_pri("80001", "13912345678")),
        Scenario("fax_send_fxo", _fax_send("fxo"), config=IN_SCRATCH_FAX),
        Scenario("fax_send_pri", _fax_send("pri"), config=IN_SCRATCH_FAX),
        Scenario("fax_inbound_pri_routed", _inbound_fax_start, _inbound_fax_react,
                 config=IN_SCRATCH_FAX),
        Scenario("machine_message", _message_start, _message_react),
        Scenario("machine_message_stopped", _message_start, _stop_message_after_3s),
        Scenario("refused_requests", _errors_start),
    ]
    return out


SCENARIOS = {s.name: s for s in scenarios()}
