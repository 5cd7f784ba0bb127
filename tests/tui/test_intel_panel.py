"""The intel panel on its own: what it shows for an answer, an unknown and a refusal,
and that a provider's or the engine's text can neither style nor act."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from linkdesk.domain.intel import IdentityMatch, IntelReport, LineStatus, Reassigned, Tenure
from linkdesk.domain.number_intel import BindingIntel
from linkdesk.domain.phones import BindingStatus, MaskedPhone
from linkdesk.domain.risk import RiskAssessment, RiskLevel, RiskSignal
from linkdesk.tui.safe import when
from linkdesk.tui.widgets.intel_panel import IntelPanel

from .test_walk import _plain

CHECKED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
EVIL = "[@click=app.quit]boom[/] [b]x\x1b]52;c;AAAA\x07 \x1b[2J\x9b"
INERT = "[@click=app.quit]boom[/] [b]x\ufffd]52;c;AAAA\ufffd \ufffd[2J\ufffd"


class PanelApp(App[None]):
    def __init__(self, items: list[BindingIntel]) -> None:
        super().__init__()
        self.items = items
        self.quit_asked = False

    def compose(self) -> ComposeResult:
        yield IntelPanel(id="intel")

    def on_mount(self) -> None:
        self.query_one(IntelPanel).show_intel(self.items)

    async def action_quit(self) -> None:  # what the hostile link would run
        self.quit_asked = True


def intel(
    *,
    report: IntelReport | None = None,
    assessment: RiskAssessment | None = None,
    unavailable: str | None = None,
    binding: str | None = "P-7",
) -> BindingIntel:
    return BindingIntel(
        binding=binding,
        phone=MaskedPhone(ref="P-7", masked="138****1234", carrier="China Mobile", region="Beijing"),
        status=BindingStatus.ACTIVE if binding else None,
        report=report,
        assessment=assessment,
        unavailable=unavailable,
        checked_at=CHECKED,
    )


def signal(code: str, weight: int, *, critical: bool = False, text: str = "why", evidence: str = "what", source: str = "sandbox") -> RiskSignal:
    return RiskSignal(code=code, weight=weight, critical=critical, explanation=text, evidence=evidence, source=source)


async def shown(items: list[BindingIntel], size: tuple[int, int] = (60, 60)) -> tuple[PanelApp, str]:
    app = PanelApp(items)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return app, _plain(app)


async def test_a_recycled_number_shows_its_score_badges_and_stop_contact() -> None:
    report = IntelReport(
        provider="sandbox", checked_at=CHECKED, reference_date=CHECKED.date(),
        line_status=LineStatus.NORMAL, tenure=Tenure.UNDER_3M, reassigned=Reassigned.YES,
    )
    assessment = RiskAssessment(
        score=100, level=RiskLevel.CRITICAL, stop_contact=True, assessed_at=CHECKED, policy="default/1",
        signals=[
            signal("reassigned", 100, critical=True, text="re-issued to someone else", evidence="re-issued 2026-03-01"),
            signal("short_tenure", 20, text="new number", evidence="tenure under 3 months", source="desk"),
        ],
    )
    _app, text = await shown([intel(report=report, assessment=assessment)])
    assert "138****1234  active" in text
    assert "risk 100  critical" in text
    assert "■ STOP CONTACT" in text
    assert "Reassigned · critical" in text and "Short tenure +20" in text
    assert "re-issued to someone else" in text and "re-issued 2026-03-01 · sandbox" in text
    assert "tenure under 3 months · desk" in text
    assert f"checked {when(CHECKED)} via sandbox" in text


async def test_unknown_facts_are_shown_as_unknown() -> None:
    report = IntelReport(provider="aliyun", checked_at=CHECKED, reference_date=CHECKED.date(),
                         identity=IdentityMatch.UNKNOWN, unavailable=["tenure"])
    assessment = RiskAssessment(score=0, level=RiskLevel.LOW, signals=[], stop_contact=False,
                                assessed_at=CHECKED, policy="default/1")
    _app, text = await shown([intel(report=report, assessment=assessment)])
    for fact in ("line", "tenure", "re-issued", "virtual", "ported", "port/swap", "identity", "carrier", "region"):
        line = next(row for row in text.splitlines() if row.strip().startswith(fact + " "))
        assert line.split()[-1] == "unknown", line
    assert "not answered this time: tenure" in text
    assert "STOP CONTACT" not in text
    assert "risk 0  low" in text


async def test_an_unavailable_provider_is_said_and_the_last_answer_stays() -> None:
    report = IntelReport(provider="sandbox", checked_at=CHECKED, reference_date=CHECKED.date())
    assessment = RiskAssessment(score=35, level=RiskLevel.MEDIUM, stop_contact=False, assessed_at=CHECKED,
                                policy="default/1", signals=[signal("shared_number", 35)])
    _app, text = await shown([
        intel(report=report, assessment=assessment, unavailable="intel unavailable: aliyun: circuit open, retry in 60 s"),
        intel(binding=None, unavailable="twilio: 503"),
    ])
    assert "intel unavailable: aliyun: circuit open, retry in 60 s" in text  # not said twice
    assert "intel unavailable: intel unavailable" not in text
    assert "intel unavailable: twilio: 503" in text
    assert "risk 35  medium" in text and "Shared number +35" in text
    assert "the case's number" in text


async def test_hostile_text_from_a_provider_or_the_engine_is_inert() -> None:
    report = IntelReport(provider=EVIL, checked_at=CHECKED, reference_date=CHECKED.date(), carrier=EVIL,
                         region=EVIL, unavailable=[EVIL])
    assessment = RiskAssessment(
        score=60, level=RiskLevel.HIGH, stop_contact=False, assessed_at=CHECKED, policy=EVIL,
        signals=[signal(EVIL, 60, text=EVIL, evidence=EVIL, source=EVIL)],
    )
    app, text = await shown([intel(report=report, assessment=assessment, unavailable=EVIL)], size=(200, 60))
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert INERT in text
    assert f"checked {when(CHECKED)} via {INERT}" in text
    assert f"intel unavailable: {INERT}" in text
    assert not app.quit_asked


async def test_clicking_hostile_text_runs_nothing() -> None:
    app = PanelApp([intel(unavailable=EVIL)])
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        for y in range(8):
            await pilot.click(offset=(20, y))
        await pilot.pause()
        assert app.is_running and not app.quit_asked
        assert "[@click=app.quit]boom[/]" in _plain(app)


async def test_intel_unavailable_is_in_the_warning_colour() -> None:
    from textual.color import Color

    app = PanelApp([intel(unavailable="aliyun: circuit open")])
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        line = app.query_one(".intel-unavailable")
        assert "intel unavailable: aliyun: circuit open" in str(line.render())
        assert line.styles.color == Color.parse(app.get_css_variables()["warning"])
