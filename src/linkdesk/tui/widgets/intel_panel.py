"""The case screen's phone-intel panel: one block per number of the case.

A block says which number (masked), how it is bound, then what the desk knows of it:
the risk score and level, each signal as a badge with its explanation and evidence,
the facts the provider answered (unknown ones shown as unknown), and when and from
where it was checked. A provider that could not answer shows "intel unavailable"
with its reason; the rest of the block (the last known answer) stays.

The numbers are known from the case before the intel answers (:meth:`show_case`);
the desk's answer (``GET``/``POST /cases/{ref}/intel``) fills them in
(:meth:`show_intel`). Everything from the desk or a provider is cleaned and shown as
``Content``, never parsed as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from linkdesk.domain.cases import Case
from linkdesk.domain.intel import IntelReport
from linkdesk.domain.number_intel import CASE_NUMBER_REF, BindingIntel
from linkdesk.domain.phones import BindingStatus, PhoneBinding
from linkdesk.domain.risk import RiskAssessment, RiskSignal
from linkdesk.domain.text import clean, clean_line
from linkdesk.i18n import _
from linkdesk.tui import labels
from linkdesk.tui.risk_styles import CRITICAL_BADGE, badge_style, level_style
from linkdesk.tui.safe import day, when

CASE_NUMBER = CASE_NUMBER_REF
"""The key of the case's own number (a case without a borrower)."""

STOP_SIGNAL = "reassigned"
_UNAVAILABLE_PREFIX = re.compile(r"^\s*intel unavailable\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class NumberView:
    """One number as the panel shows it: what the case says, and the desk's intel."""

    key: str
    masked: str
    status: BindingStatus | None = None
    bound_at: datetime | None = None
    unbound_at: datetime | None = None
    carrier: str | None = None
    region: str | None = None
    intel: BindingIntel | None = None
    """The desk's answer for this number, or ``None`` before it answered."""


def unavailable_text(reason: str) -> str:
    """``intel unavailable: <reason>`` (a reason that already says so is not doubled)."""
    return _("intel unavailable: {reason}", reason=_UNAVAILABLE_PREFIX.sub("", clean_line(reason)) or "—")


def _content(text: str | None, style: str = "") -> Content:
    return Content.styled(clean_line(text or ""), style) if style else Content(clean_line(text or ""))


def _key_of(intel: BindingIntel) -> str:
    return clean_line(str(intel.binding)) if getattr(intel, "binding", None) else CASE_NUMBER


def _facts(report: IntelReport | None) -> list[tuple[str, str, bool]]:
    """(label, value, known) of every fact of a report; unknown facts are kept."""
    if report is None:
        return []
    identity = report.identity
    facts = [
        (_("line"), labels.line_status(report.line_status), str(report.line_status) != "unknown"),
        (_("tenure"), labels.tenure(report.tenure), str(report.tenure) != "unknown"),
        (_("re-issued"), labels.reassigned(report.reassigned), str(report.reassigned) != "unknown"),
        (_("virtual"), labels.yes_no(report.virtual), report.virtual is not None),
        (_("ported"), labels.yes_no(report.ported), report.ported is not None),
        (_("port/swap"), labels.yes_no(report.recent_port_or_swap), report.recent_port_or_swap is not None),
        (
            _("identity"),
            _("not checked") if identity is None else labels.identity_match(identity),
            identity is not None and str(identity) != "unknown",
        ),
        (_("carrier"), clean_line(report.carrier) if report.carrier else _("unknown"), bool(report.carrier)),
        (_("region"), clean_line(report.region) if report.region else _("unknown"), bool(report.region)),
    ]
    return facts


class NumberIntel(Vertical):
    """One number: how it is bound, and its intel."""

    DEFAULT_CSS = """
    NumberIntel { height: auto; }
    NumberIntel > Static { height: auto; }
    """

    def __init__(self, number: NumberView, *, state: str, case_number: bool = False) -> None:
        level = self.level_of(number.intel)
        super().__init__(classes=f"number -{level}")
        self.number = number
        self.state = state
        self.case_number = case_number
        """The case's own number (the one in the case's header)."""

    @staticmethod
    def level_of(intel: BindingIntel | None) -> str:
        """The CSS class of the block: the level, or ``unavailable``/``unscored``."""
        if intel is not None and intel.unavailable and intel.assessment is None:
            return "unavailable"
        if intel is None or intel.assessment is None:
            return "unscored"
        level = str(intel.assessment.level)
        return level if level in labels.RISK_LEVELS else "unscored"

    def compose(self) -> ComposeResult:
        intel = self.number.intel
        yield Static(self.head(), classes="number-head")
        bound = self.bound_lines()
        if bound.plain:
            yield Static(bound, classes="number-bound")
        if intel is None:
            waiting = _("loading intel…") if self.state in ("loading", "checking") else _("no intel")
            yield Static(Content.styled(waiting, "dim"), classes="intel-none")
            return
        if intel.unavailable:
            yield Static(Content(unavailable_text(str(intel.unavailable))), classes="intel-unavailable")
        assessment = intel.assessment
        if assessment is None:
            if not intel.unavailable:
                yield Static(Content.styled(_("not scored yet"), "dim"), classes="intel-none")
        else:
            yield Static(self.score_line(assessment), classes="intel-score")
            if self.stops_contact(assessment):
                yield Static(Content.styled(" ■ " + _("STOP CONTACT") + " ", CRITICAL_BADGE), classes="stop-contact")
            for signal in assessment.signals:
                yield Static(self.badge(signal), classes="signal-badge")
                yield Static(self.explanation(signal), classes="signal-explanation")
        facts = _facts(intel.report)
        if facts:
            yield Static(self.facts_text(facts), classes="intel-facts")
        if intel.report is not None and intel.report.unavailable:
            missing = ", ".join(clean_line(str(check)) for check in intel.report.unavailable)
            yield Static(
                Content.styled(_("not answered this time: {checks}", checks=missing), "$warning"),
                classes="intel-partial",
            )
        checked = self.checked_line(intel)
        if checked.plain:
            yield Static(checked, classes="intel-checked")

    # -- lines -------------------------------------------------------------------------

    def head(self) -> Content:
        number = self.number
        active = number.status is BindingStatus.ACTIVE or (number.status is None and number.key == CASE_NUMBER)
        parts: list[Content | tuple[str, str] | str] = [
            ("● " if active else "○ ", "#57ab5a" if active else "dim"),
            _content(number.masked, "bold" if active else ""),
        ]
        if self.case_number and number.key != CASE_NUMBER:
            parts.append((" ☎", "bold"))
        if number.status is not None:
            parts.append(("  " + labels.binding_status(number.status), "" if active else "dim"))
        elif number.key == CASE_NUMBER:
            parts.append(("  " + _("the case's number"), "dim"))
        else:
            parts.append(("  " + number.key, "dim"))
        return Content.assemble(*parts)

    def bound_lines(self) -> Content:
        """When it was bound (to when), then carrier and region, dim."""
        number = self.number
        lines: list[str] = []
        if number.bound_at is not None:
            until = day(number.unbound_at) if number.unbound_at else _("now")
            lines.append(f"{day(number.bound_at)} → {until}")
        where = " · ".join(clean_line(v) for v in (number.carrier, number.region) if v)
        if where:
            lines.append(where)
        return Content.styled("\n".join(lines), "dim")

    @staticmethod
    def score_line(assessment: RiskAssessment) -> Content:
        level = str(assessment.level)
        style = level_style(level) or "bold"
        return Content.assemble(
            (_("risk") + " ", "bold"),
            (str(int(assessment.score)), style),
            ("  " + labels.risk_level(level), style),
        )

    @staticmethod
    def stops_contact(assessment: RiskAssessment) -> bool:
        """The number must not be called or messaged (a critical signal such as a
        re-issued number)."""
        return assessment.stop_contact or any(s.critical and s.code == STOP_SIGNAL for s in assessment.signals)

    @staticmethod
    def badge(signal: RiskSignal) -> Content:
        label = labels.signal(str(signal.code))
        weight = int(signal.weight)
        text = f" {label} +{weight} " if not signal.critical else f" {label} · {_('critical')} "
        return Content.styled(text, badge_style(weight, bool(signal.critical)))

    @staticmethod
    def explanation(signal: RiskSignal) -> Content:
        # the engine explains in English; the catalog knows its sentences (else English)
        parts: list[Content | tuple[str, str] | str] = [Content(_(clean(signal.explanation).strip()))]
        evidence = clean_line(str(signal.evidence or "")).strip()
        source = clean_line(str(signal.source or "")).strip()
        detail = " · ".join(part for part in (evidence, source) if part)
        if detail:
            parts.append(("\n" + detail, "dim"))
        return Content.assemble(*parts)

    @staticmethod
    def facts_text(facts: Sequence[tuple[str, str, bool]]) -> Content:
        width = max(cell_len(label) for label, _value, _known in facts) + 1
        lines: list[Content] = []
        for label, value, known in facts:
            pad = " " * (width - cell_len(label))
            lines.append(Content.assemble((label + pad, "dim"), (value, "" if known else "dim italic")))
        return Content("\n").join(lines)

    @staticmethod
    def checked_line(intel: BindingIntel) -> Content:
        report = intel.report
        checked_at = intel.checked_at or (report.checked_at if report is not None else None)
        if checked_at is None:
            return Content("")
        if report is not None:
            text = _("checked {when} via {provider}", when=when(checked_at), provider=clean_line(report.provider))
        else:
            text = _("checked {when}", when=when(checked_at))
        return Content.styled(text, "dim")


class IntelPanel(Vertical):
    """Phone intel for every number of a case."""

    # what the words mean stays with the widget; where it sits is screens/case.tcss
    DEFAULT_CSS = """
    IntelPanel { height: auto; }
    IntelPanel > Static { height: auto; }
    IntelPanel .intel-unavailable { color: $warning; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.numbers: list[NumberView] = []
        self.case_phone: str | None = None
        """The case's own number (masked), marked ☎ among the numbers."""
        self.state = "loading"
        """``loading`` (the first answer), ``ready``, ``checking`` (a re-check) or ``failed``."""
        self.problem: str | None = None
        """Why the last call for intel failed (shown above the blocks)."""

    # -- what the screen tells it ------------------------------------------------------

    def show_case(self, case: Case) -> None:
        """The numbers of ``case`` (before or besides the intel); known intel is kept."""
        known = {number.key: number.intel for number in self.numbers}
        self.case_phone = clean_line(case.phone) if case.phone else None
        numbers: list[NumberView] = []
        borrower = case.borrower
        if borrower is not None:
            for binding in sorted(borrower.bindings, key=lambda b: b.bound_at, reverse=True):
                numbers.append(self._from_binding(binding, known.get(clean_line(binding.ref))))
        elif case.phone:
            numbers.append(NumberView(CASE_NUMBER, case.phone, intel=known.get(CASE_NUMBER)))
        # numbers the intel knows and the case does not (yet) keep their block
        keys = {number.key for number in numbers}
        numbers += [n for n in self.numbers if n.key not in keys and n.intel is not None]
        self.numbers = numbers
        self.refresh(recompose=True)

    def show_intel(self, items: Iterable[BindingIntel]) -> None:
        """The desk's answer: one item per number, newest binding first."""
        by_key = {number.key: number for number in self.numbers}
        numbers: list[NumberView] = []
        for item in items:
            key = _key_of(item)
            base = by_key.pop(key, None)
            phone = item.phone
            numbers.append(
                NumberView(
                    key,
                    clean_line(phone.masked),
                    status=item.status if item.status is not None else (base.status if base else None),
                    bound_at=base.bound_at if base else None,
                    unbound_at=base.unbound_at if base else None,
                    carrier=phone.carrier,
                    region=phone.region,
                    intel=item,
                )
            )
        numbers += by_key.values()  # numbers the desk said nothing about stay listed
        self.numbers = numbers
        self.state, self.problem = "ready", None
        self.refresh(recompose=True)

    def checking(self) -> None:
        self.state, self.problem = "checking", None
        self.refresh(recompose=True)

    def failed(self, reason: str) -> None:
        """The call for intel failed as a whole: say so; the last answer stays."""
        self.state, self.problem = "failed", reason
        self.refresh(recompose=True)

    @staticmethod
    def _from_binding(binding: PhoneBinding, intel: BindingIntel | None) -> NumberView:
        return NumberView(
            clean_line(binding.ref),
            clean_line(binding.phone.masked),
            status=binding.status,
            bound_at=binding.bound_at,
            unbound_at=binding.unbound_at,
            carrier=binding.phone.carrier,
            region=binding.phone.region,
            intel=intel,
        )

    # -- rendering ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        title: list[Content | tuple[str, str] | str] = [(_("Phone bindings · intel"), "bold underline")]
        if self.state == "checking":
            title.append(("  " + _("checking…"), "$accent italic"))
        elif self.state == "loading":
            title.append(("  " + _("loading…"), "dim italic"))
        yield Static(Content.assemble(*title), classes="intel-title")
        if self.problem is not None:
            yield Static(Content(unavailable_text(self.problem)), classes="intel-unavailable")
        if not self.numbers:
            yield Static(Content.styled(_("none"), "dim"), classes="intel-none")
        # a number that must not be contacted is said first, whichever block it is in
        for number in self.numbers:
            assessment = number.intel.assessment if number.intel is not None else None
            if assessment is not None and NumberIntel.stops_contact(assessment):
                yield Static(
                    Content.assemble((" ■ " + _("STOP CONTACT") + " ", CRITICAL_BADGE), " ", (number.masked, "bold")),
                    classes="stop-contact -summary",
                )
        for number in self.numbers:
            yield NumberIntel(number, state=self.state, case_number=number.masked == self.case_phone)
