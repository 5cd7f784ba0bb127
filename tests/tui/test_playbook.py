"""The playbook screen against a real in-process desk: ``P`` on a recycled-number case,
``enter`` runs the steps, ``escape`` stops between them, ``enter`` resumes, the reply is
shown before ``enter`` posts it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from linkdesk.domain.cases import CaseCreate
from linkdesk.domain.phones import last_four, mask
from linkdesk.domain.playbook import Step, StepStatus
from linkdesk.intel.sandbox import Lifecycle, SandboxProvider, register
from linkdesk.server.crypto import aad
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import BindingRow, BorrowerRow

from .conftest import NOW, Desk, settled, wait_for
from .test_privacy import open_case
from .test_walk import _plain

NUMBER = "+8613912340077"


class GatedProvider:
    """The sandbox, answering only when the test opens the gate."""

    name = "sandbox"

    def __init__(self, inner: SandboxProvider) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.asked = asyncio.Event()

    async def check(self, e164: str, **kwargs: Any) -> Any:
        self.asked.set()
        await self.gate.wait()
        return await self.inner.check(e164, **kwargs)

    async def aclose(self) -> None:
        await self.inner.aclose()


def bind_reissued_number(desk: Desk) -> None:
    """A borrower bound to NUMBER a year ago; the number re-issued to a stranger since."""
    state = desk.app.state
    keyring, bound = state.keyring, NOW - timedelta(days=365)
    with desk.session() as session, session.begin():
        borrower = BorrowerRow(name_masked="钱*", created_at=bound, key_version=keyring.writing_version())
        session.add(borrower)
        session.flush()
        binding = BindingRow(borrower_id=borrower.id, phone_index=keyring.blind_index(NUMBER),
                             phone_masked=mask(NUMBER), last4=last_four(NUMBER), status="active",
                             bound_at=bound, key_version=keyring.writing_version())
        session.add(binding)
        session.flush()
        binding.phone_enc = keyring.encrypt(NUMBER, aad("phone_bindings", "phone_enc", binding.id))
        register(session, keyring, NUMBER, Lifecycle(activated_at=bound - timedelta(days=800),
                                                     cancelled_at=NOW - timedelta(days=60),
                                                     reissued_at=NOW - timedelta(days=20)))


def marks(screen: Any) -> dict[Step, StepStatus]:
    return {s.step: s.status for s in screen.state.steps}


async def test_run_stop_after_confirm_resume_and_post_the_reply(desk: Desk, make_app: Any) -> None:
    bind_reissued_number(desk)
    provider = GatedProvider(SandboxProvider(make_session_factory(desk.app.state.engine), desk.app.state.keyring,
                                             clock=lambda: NOW))
    desk.reopen(intel_provider=provider)
    ref = (await desk.client().create_case(CaseCreate(
        category="recycled_number", subject="陌生人来电投诉 [/] 催收", phone="13912340077"))).ref
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_case(pilot, ref)
        await pilot.press("P")
        await wait_for(pilot, lambda: getattr(app.screen, "state", None) is not None)
        screen = app.screen
        assert set(marks(screen).values()) == {StepStatus.PENDING}
        assert "Look up who is bound to the number" in _plain(app)

        await pilot.press("enter")
        await wait_for(pilot, provider.asked.is_set)  # step 2 under way: ask to stop
        await wait_for(pilot, lambda: screen.running is Step.CONFIRM)
        assert "◐" in _plain(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Stopping after this step" in _plain(app))
        provider.gate.set()
        await wait_for(pilot, lambda: not screen.run_active)
        await settled(pilot)
        assert app.screen is screen  # escape stopped the run, it did not leave the screen
        done = marks(screen)
        assert done[Step.LOOKUP] is done[Step.CONFIRM] is StepStatus.DONE
        assert done[Step.UNBIND] is StepStatus.PENDING and screen.state.next_step is Step.UNBIND
        assert "enter resumes from step 3" in _plain(app)

        await pilot.press("enter")  # resume: steps 3-5, then the reply is shown, not posted
        await wait_for(pilot, lambda: not screen.run_active and screen.state.next_step is Step.REPLY)
        await settled(pilot)
        shown = _plain(app)
        assert "Reply to be posted" in shown and f"reference {ref}" in shown and "no longer be" in shown
        assert "13912340077" not in shown and "139****0077" in shown  # masked only

        await pilot.press("enter")  # post it
        await wait_for(pilot, lambda: screen.state.finished)
        await settled(pilot)
        assert set(marks(screen).values()) == {StepStatus.DONE}
        assert "The playbook is done." in _plain(app)

        await pilot.press("escape")  # back to the case, which shows what the steps did
        await wait_for(pilot, lambda: getattr(getattr(app.screen, "case", None), "status", None) == "resolved")
        await settled(pilot)
        assert "playbook step" in _plain(app) and "no longer be" in _plain(app)

    client = desk.client()
    assert (await client.get_case(ref)).status == "resolved"
    comments = [e for e in (await client.list_events(ref)).items if e.kind == "comment"]
    assert len(comments) == 1 and ref in comments[0].body
