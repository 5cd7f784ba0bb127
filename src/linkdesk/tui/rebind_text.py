"""The rebind wizard's texts: factor names, groups, approval triggers, the factor list
with results and the policy's answer — in the agent's language, desk text cleaned."""

from __future__ import annotations

from rich.text import Text

from linkdesk.domain.rebind import (
    GROUP_OF,
    ApprovalTrigger,
    FactorGroup,
    FactorKind,
    Outcome,
    Rebind,
    RebindStatus,
)
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _
from linkdesk.tui.safe import line, when

KEY_OF = {
    FactorKind.THREE_ELEMENT: "t", FactorKind.OTP_NEW: "n", FactorKind.OTP_OLD: "o",
    FactorKind.ID_DOCUMENT: "d", FactorKind.BANK_CARD: "c", FactorKind.VIDEO: "w",
}


def factor_name(kind: FactorKind) -> str:
    return {
        FactorKind.THREE_ELEMENT: _("Three-element check of the new number"),
        FactorKind.OTP_NEW: _("Code sent to the new number"),
        FactorKind.OTP_OLD: _("Code sent to the old number"),
        FactorKind.ID_DOCUMENT: _("ID document check"),
        FactorKind.BANK_CARD: _("Bank card check"),
        FactorKind.VIDEO: _("Video check"),
    }[kind]


def group_name(group: FactorGroup) -> str:
    if group is FactorGroup.NEW_NUMBER:
        return _("rests on the new number")
    if group is FactorGroup.OLD_NUMBER:
        return _("rests on the old number")
    return _("independent of both numbers")


def trigger_words(trigger: ApprovalTrigger) -> str:
    return {
        ApprovalTrigger.HIGH_RISK: _("the borrower's risk score is high"),
        ApprovalTrigger.BOUND_ELSEWHERE: _("the new number is bound to another borrower"),
        ApprovalTrigger.REPEATED_REBIND: _("a second rebind within 90 days"),
        ApprovalTrigger.IDENTITY_MISMATCH: _("the three-element check failed"),
    }[trigger]



def status_words(rebind: Rebind) -> str:
    if rebind.status is RebindStatus.VERIFYING:
        return _("verifying the borrower")
    if rebind.status is RebindStatus.AWAITING_APPROVAL:
        return _("waiting for a supervisor other than {agent}", agent=clean_line(rebind.requested_by))
    if rebind.status is RebindStatus.COMPLETED:
        return _("completed: {binding} is the borrower's number", binding=clean_line(rebind.new_binding or ""))
    return _("cancelled")

def factors_text(rebind: Rebind) -> Text:
    latest = {factor.kind: factor for factor in rebind.factors}
    codes = {code.factor: code for code in rebind.codes}
    text = Text(_("Verification factors") + "\n", style="bold underline", end="")
    for kind in FactorKind:
        factor = latest.get(kind)
        if factor is None:
            hint = f"[{KEY_OF[kind]}] " if rebind.status is RebindStatus.VERIFYING else ""
            text.append(f"  ·  {hint}", style="dim")
        elif factor.passed:
            text.append("  ✔  ", style="bold #3fb8af")
        else:
            text.append("  ✘  ", style="bold #ff5f56")
        text.append(factor_name(kind))
        text.append(f"  ({group_name(GROUP_OF[kind])})", style="dim")
        if factor is not None:
            text.append("\n       ")
            text.append_text(line(factor.detail, "italic"))
            text.append(f"  — {clean_line(factor.recorded_by)} {when(factor.recorded_at)}", style="dim")
        code = codes.get(kind)
        if code is not None and code.attempts_left:
            text.append("\n       ")
            text.append(_("code sent to {phone}, valid until {time}, {left} attempts left",
                          phone=clean_line(code.to), time=when(code.expires_at)[-5:], left=code.attempts_left),
                        style="#e8b04a")
        text.append("\n")
    return text

def decision_text(rebind: Rebind) -> Text:
    decision = rebind.decision
    text = Text(end="")
    if rebind.status not in (RebindStatus.VERIFYING, RebindStatus.AWAITING_APPROVAL):
        return text
    if decision.outcome is Outcome.INSUFFICIENT:
        text.append(_("Not enough yet") + ": ", style="bold #ff9f1a")
        needs = []
        if FactorGroup.NEW_NUMBER not in decision.groups:
            needs.append(_("verify the new number (three-element check or its code)"))
        if not any(group is not FactorGroup.NEW_NUMBER for group in decision.groups):
            needs.append(_("a factor independent of the new number (old-number code, ID, card or video)"))
        text.append("; ".join(needs))
    elif decision.outcome is Outcome.NEEDS_APPROVAL:
        text.append(_("Enough factors; a supervisor must approve") + ": ", style="bold #e8b04a")
    else:
        text.append(_("Enough independent factors: press f to complete"), style="bold #3fb8af")
    if decision.approval and decision.outcome is not Outcome.ALLOWED:
        if decision.outcome is Outcome.INSUFFICIENT:
            text.append("\n" + _("Then a supervisor must approve") + ": ", style="#e8b04a")
        text.append(", ".join(trigger_words(t) for t in decision.approval))
    return text

