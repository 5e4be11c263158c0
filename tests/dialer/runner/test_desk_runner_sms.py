"""A disposition that sends an SMS (issue 20 item 3): on the sample mobile card (two
emulated modules behind real ptys, in virtual time) an agent at a phone rung over one
module talks to a debtor called over the other, saves a promise to pay whose
disposition carries an SMS template; the emulated module sends the reminder, its
delivery report arrives, and the contact's ``contact_sms`` row reads delivered with the
text filled from the contact and the promise. A gateway that refuses (no module in the
group) records the message failed with its reason; the disposition stands."""

from __future__ import annotations

from pathlib import Path

import pytest
from desk_runner_kit import state, step_until
from runner_kit import T0, make_store

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.desk.outputs import PreviewOffered
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.gateway.config import GatewayConfig

SAMPLE = Path(__file__).parents[3] / "firmware-profiles" / "networks" / "sample.toml"
#: The agent's phone: answers at once and stays up for the whole test.
AGENT_PHONE = """
[[subscriber]]
number = "150*"
behaviour = "human"
answer_after = [1.0, 1.0]
talk = [7200, 7200]
"""
DEBTORS = (("1381", 2, "human"),)
TEMPLATE = "尊敬的{{name}}，您承诺于{{promise_date}}还款{{promise_amount}}元，谢谢。"
DESK = {"max_wrap_up": 600, "disposition": [
    {"code": "promise", "sms": TEMPLATE,
     "field": [{"name": "promise_amount", "kind": "money", "required": True},
               {"name": "promise_date", "kind": "date", "required": True}]},
    {"code": "no_deal"}]}


def _gateway(tmp_path: Path) -> InProcessGateway:
    plan = tmp_path / "plan.toml"
    plan.write_text(SAMPLE.read_text(encoding="utf-8") + AGENT_PHONE, encoding="utf-8")
    config = GatewayConfig(card_url="mobile", recordings_root=tmp_path / "rec",
                           fax_spool=tmp_path / "fax", prompts=Path("/"),
                           sms_store=tmp_path / "sms.sqlite",
                           groups={"gsm": ["span:1", "span:2"]})
    gateway = InProcessGateway(start=T0, network=plan, config=config)
    gateway.virtual.service.sms.wall = gateway.now  # the limits count in virtual time
    modules = gateway.virtual.service.sms.modules.values()
    gateway.virtual.run_until(lambda: all(m.link.ready for m in modules), 120)
    return gateway


def _talk_and_save(runner: DeskRunner, gateway: InProcessGateway) -> int:
    """Log in at the phone, dial the first preview, talk until the debtor hangs up,
    save a promise to pay; the contact's id."""
    runner.start()
    runner.submit(cmd.Login("a1", "number", "15000000001", (("loans", "standard"),)))
    step_until(runner, lambda: state(runner) == "paused", 120)
    runner.submit(cmd.Ready("a1"))
    offers = lambda: [e for e in runner.desk_events if isinstance(e, PreviewOffered)]  # noqa: E731
    step_until(runner, lambda: bool(offers()), 60)
    contact = offers()[0].contact.contact_id
    runner.submit(cmd.PreviewDial("a1", contact))
    step_until(runner, lambda: state(runner) == "talking", 120)
    step_until(runner, lambda: state(runner) == "wrap_up", 120)
    runner.submit(cmd.SaveDisposition(
        "a1", "promise", {"promise_amount": "1500", "promise_date": "2025-06-20"}))
    step_until(runner, lambda: state(runner) != "wrap_up", 10)
    return int(contact)


@pytest.mark.slow
def test_a_promise_to_pay_sends_its_reminder_and_records_the_delivery(tmp_path: Path
                                                                      ) -> None:
    store = make_store(tmp_path, campaign="loans", ranges=DEBTORS,
                       config={"mode": "preview", "regime": "none"})
    store.save_desk_config("loans", DeskConfig.from_dict("loans", DESK))
    gateway = _gateway(tmp_path)
    runner = DeskRunner(store, "loans", gateway, group="gsm", engine_log=quiet_logger())
    try:
        contact = _talk_and_save(runner, gateway)
        [row] = store.contact_sms(contact)
        name = store.contact_card(contact).fields["name"]
        text = f"尊敬的{name}，您承诺于2025-06-20还款1500.00元，谢谢。"
        assert (row["state"], row["text"], row["campaign"]) == ("queued", text, "loans")
        assert row["sms_id"] is not None and row["disposition_id"] is not None
        called = store.query("SELECT number FROM attempt WHERE id=(SELECT attempt_id FROM "
                             "disposition WHERE id=?)", (row["disposition_id"],))[0][0]
        assert row["number"] == called
        step_until(runner, lambda: store.contact_sms(contact)[0]["state"] == "delivered", 60)
        card = gateway.card
        sent = [s for span in (1, 2) for s in card.emulated_modem(span).sms_sent]
        assert [s.text for s in sent] == [text]
        assert store.sms_counts("loans") == {"queued": 0, "sent": 0, "delivered": 1,
                                             "failed": 0}
        status = gateway._call("sms.status", sms=row["sms_id"])
        assert status["ref"] == f"disposition:{row['disposition_id']}"
    finally:
        gateway.close()


@pytest.mark.slow
def test_a_refused_sms_is_recorded_failed_and_the_disposition_stands(tmp_path: Path
                                                                     ) -> None:
    store = make_store(tmp_path, campaign="loans", ranges=DEBTORS,
                       config={"mode": "preview", "regime": "none"})
    store.save_desk_config("loans", DeskConfig.from_dict("loans", {**DESK,
                                                                   "sms_group": "nowhere"}))
    gateway = _gateway(tmp_path)
    runner = DeskRunner(store, "loans", gateway, group="gsm", engine_log=quiet_logger())
    try:
        contact = _talk_and_save(runner, gateway)
        [row] = store.contact_sms(contact)
        assert row["state"] == "failed" and row["sms_id"] is None
        assert "no SMS module in group 'nowhere'" in row["reason"]
        assert store.query("SELECT code FROM disposition")[0][0] == "promise"
        assert store.sms_counts("loans")["failed"] == 1
    finally:
        gateway.close()


def test_reports_that_came_while_no_runner_listened_are_read_at_start(tmp_path: Path
                                                                       ) -> None:
    store = make_store(tmp_path, campaign="loans", ranges=DEBTORS,
                       config={"mode": "preview", "regime": "none"})
    store.save_desk_config("loans", DeskConfig.from_dict("loans", DESK))
    gateway = _gateway(tmp_path)
    try:
        contact = store.query("SELECT id FROM contact ORDER BY id")[0][0]
        # a runner sent it, then stopped before any report
        sms = gateway.sms_send("+8613812345678", "您好", group="mobile")["sms"]
        store.add_contact_sms(campaign="loans", contact=contact, attempt=None,
                              disposition=None, number="+8613812345678", text="您好",
                              sms_id=sms, state="queued", reason="", at=gateway.now(),
                              gateway=gateway.name)
        gateway.virtual.run_until(lambda: any(
            e["event"] == "sms.delivered" for e in gateway.virtual.events), 60)
        gateway.virtual.take_events()   # nobody listened
        runner = DeskRunner(store, "loans", gateway, group="gsm", engine_log=quiet_logger())
        runner.start()
        assert store.contact_sms(contact)[0]["state"] == "delivered"
    finally:
        gateway.close()
