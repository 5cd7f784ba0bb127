"""The demo desk's evidence: a sandbox registry entry behind every number, shaped so that
each case's category shows in what a check of its number finds, and the first scores.

Every number gets a plain history (activated long before it was bound, held by its
borrower). Then each case adds its category's evidence to its number:

* ``recycled_number`` — cancelled and re-issued to a stranger after the borrower bound it.
  Most of these complaints are about a binding the desk already ended as ``reassigned``;
  up to one in four (among the ``new`` and ``open`` ones) is about a number still
  **active** on a borrower: the carrier re-issued it, the stranger complains, the desk
  has not noticed yet. Such a case is re-pointed at a borrower who had no case (and no
  plain active number: theirs is suspended or shared), given another active binding (a
  new row) to a number masked as the case's was, which the registry has re-issued
  after ``bound_at`` and before the complaint, so the recycled-number playbook can run
  its whole course on it;
* ``unreachable`` — shut down (停机), powered off, abnormal, or cancelled (空号), as the
  subject says;
* ``impersonation`` — held by someone else (three-element mismatch);
* ``risk_alert`` — as the subject says: a short tenure at binding (the binding made
  recent), re-issued, shared (another borrower's active binding is given the same
  number), a mismatch, cancelled, repeated rebinds; else a recent port, a virtual
  number or a short tenure;
* ``rebind`` — the borrower's bindings moved into the last 90 days, with older numbers
  added up to three bindings (two rebinds in 90 days), the old number shut down when the
  subject says so.

The desk's own binding states agree: a ``reassigned`` binding's number was re-issued, a
``suspended`` one is shut down — except the active bindings of those unnoticed
complaints, re-issued on purpose (they score critical, stop contact, as they would).
Each number is then checked once (the sandbox's rules at the seed's time) and scored,
so the inbox's risk column and ``risk:>=60`` have something to show; later checks
compare with these reports. A separate random stream (seeded from the demo's seed)
decides all of it, so the cases themselves are what they were before the registry
existed; a third one (``aside``) picks the unnoticed complaints, their borrowers,
numbers and re-issues, so that the other two streams draw what they drew before.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from linkdesk.domain.cases import CaseCategory
from linkdesk.domain.intel import Identity, LineStatus
from linkdesk.domain.phones import BindingStatus, describe, last_four, mask
from linkdesk.domain.risk import BindingFacts, assess, default_policy
from linkdesk.intel import sandbox
from linkdesk.server import demo_data as d
from linkdesk.server.crypto import KeyRing, aad
from linkdesk.server.data_keys import DataKeys

CARRIERS = ("China Mobile", "China Unicom", "China Telecom")
_STATUS_FLAGS = (("shut_down", LineStatus.SHUT_DOWN), ("abnormal", LineStatus.ABNORMAL),
                 ("power_off", LineStatus.POWER_OFF))
_RISK_ALERT_WORDS = (
    ("入网时长过短", "short_tenure"), ("重新分配", "reissued"), ("reassigned", "reissued"),
    ("共用", "shared"), ("share", "shared"), ("三要素", "mismatch"), ("销号", "cancelled"),
    ("频繁换绑", "rebinds"),
)
UNNOTICED_STATUSES = ("new", "open")
"""A recycled-number complaint in these statuses may be about a number still bound."""
_UNREACHABLE_WORDS = (("空号", "cancelled"), ("out of service", "cancelled"), ("关机", "power_off"),
                      ("停机", "shut_down"))


@dataclass
class Extra:
    """What :meth:`DemoEvidence.finish` adds to the seed."""

    bindings: list[dict[str, Any]] = field(default_factory=list)
    lifecycle: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[int, int] = field(default_factory=dict)
    """Score by binding id."""
    active: dict[int, set[int]] = field(default_factory=dict)
    """Active binding ids by borrower id."""

    def case_risk(self, borrower_id: int | None, binding_id: int | None) -> int | None:
        """A case's risk as ``server.intel.refresh_case_risk`` computes it."""
        if borrower_id is None:
            return None
        candidates = [self.scores[b] for b in self.active.get(borrower_id, ()) if b in self.scores]
        if binding_id in self.scores:
            candidates.append(self.scores[binding_id])
        return max(candidates) if candidates else None


class DemoEvidence:
    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        keyring: KeyRing,
        version: int,
        bindings: list[dict[str, Any]],
        numbers: dict[int, str],
        people: dict[int, tuple[str, str]],
        summary: Any,
        aside: random.Random | None = None,
    ) -> None:
        self.rng, self.now, self.keyring, self.version = rng, now, keyring, version
        self.aside = aside
        """Picks the unnoticed recycled-number complaints (None: there are none)."""
        self.unnoticed: dict[int, dict[str, Any]] = {}
        """The complaint case (row) by the active binding whose number it is about."""
        self.data_keys: DataKeys | None = None
        """Set by the seed: borrowers' numbers are sealed under their data keys."""
        self.rows = {row["id"]: row for row in bindings}
        self.numbers = numbers
        self.people = people
        self.summary = summary
        self.flags: dict[int, set[str]] = defaultdict(set)
        self.recent: set[int] = set()
        """Borrowers whose bindings are moved into the last 90 days."""
        self.rebinders: set[int] = set()
        """Borrowers who rebound twice in 90 days (given older numbers if they lack them)."""
        self.taken = set(numbers.values())
        self.phone_positions = {binding_id: position for position, binding_id in enumerate(sorted(numbers))}
        """Where each binding's number is in ``summary.phones`` (in binding id order)."""
        for row in bindings:
            if row["status"] == BindingStatus.REASSIGNED:
                self.flags[row["id"]].add("reissued")
            elif row["status"] == BindingStatus.SUSPENDED:
                self.flags[row["id"]].add("shut_down")
            elif row["status"] == BindingStatus.UNBOUND and rng.random() < 0.3:
                self.flags[row["id"]].add("cancelled")

    # -- what each case needs ----------------------------------------------------------

    def for_case(self, category: CaseCategory | str, subject: str, binding_id: int | None) -> None:
        if binding_id is None:
            return
        category = CaseCategory(category)
        flags = self.flags[binding_id]
        borrower_id = self.rows[binding_id]["borrower_id"]
        lowered = subject.lower()
        if category is CaseCategory.RECYCLED_NUMBER:
            flags.add("reissued")
        elif category is CaseCategory.UNREACHABLE:
            word = next((flag for key, flag in _UNREACHABLE_WORDS if key in lowered), None)
            flags.add(word or self.rng.choice(["shut_down", "abnormal", "cancelled"]))
        elif category is CaseCategory.IMPERSONATION:
            flags.add("mismatch")
        elif category is CaseCategory.RISK_ALERT:
            variant = next((flag for key, flag in _RISK_ALERT_WORDS if key in lowered), None)
            variant = variant or self.rng.choice(["short_tenure", "ported", "virtual", "shared"])
            if variant == "rebinds":
                self.recent.add(borrower_id)
                self.rebinders.add(borrower_id)
            else:
                flags.add(variant)
                if variant == "short_tenure":
                    self.recent.add(borrower_id)
        elif category is CaseCategory.REBIND:
            self.recent.add(borrower_id)
            self.rebinders.add(borrower_id)
            if any(key in lowered for key in ("停机", "丢失", "lost")):
                older = [r for r in self._history(borrower_id) if r["id"] != binding_id]
                if older:
                    self.flags[older[-1]["id"]].add("shut_down")

    def _history(self, borrower_id: int) -> list[dict[str, Any]]:
        return sorted((r for r in self.rows.values() if r["borrower_id"] == borrower_id),
                      key=lambda r: (r["bound_at"], r["id"]))

    def _between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))

    def _days(self, low: float, high: float) -> timedelta:
        return timedelta(days=self.rng.uniform(low, high))

    # -- the registry and the first scores -----------------------------------------------

    def _seal(self, borrower_id: int | None, value: str, where: str) -> bytes:
        if borrower_id is not None and self.data_keys is not None:
            return self.data_keys.seal(borrower_id, value, where)
        return self.keyring.encrypt(value, where, version=self.version)

    def _old_binding(self, borrower_id: int, bound_at: datetime, binding_id: int) -> dict[str, Any]:
        """A number the borrower had before (unbound), for a rebind's history."""
        e164 = d.mobile_number(self.rng, self.taken)
        self.phone_positions[binding_id] = len(self.summary.phones)
        self.summary.phones.append(e164)
        carrier, region = describe(e164)
        version, keyring = self.version, self.keyring
        row = {
            "id": binding_id, "borrower_id": borrower_id, "key_version": version,
            "phone_enc": self._seal(borrower_id, e164, aad("phone_bindings", "phone_enc", binding_id)),
            "phone_index": keyring.blind_index(e164, version=version), "phone_masked": mask(e164),
            "last4": last_four(e164), "carrier": carrier, "region": region,
            "status": str(BindingStatus.UNBOUND), "bound_at": bound_at, "unbound_at": bound_at,
        }
        self.rows[binding_id] = row
        self.numbers[binding_id] = e164
        return row

    def _make_recent(self, history: list[dict[str, Any]]) -> None:
        """The newest binding made 8–40 days ago, the ones before it just before (within
        90 days); the borrower's first binding keeps its start."""
        start = self.now - self._days(8, 40)
        for index in range(len(history) - 1, -1, -1):
            row = history[index]
            if index < len(history) - 1:
                row["unbound_at"] = start - timedelta(hours=self.rng.uniform(1, 48))
                if index == 0:
                    break
                start = row["unbound_at"] - self._days(20, 30)
            row["bound_at"] = start

    def _stranger(self) -> tuple[str, str]:
        name, id_number = d.person_name(self.rng), d.id_number(self.rng)
        self.summary.names.append(name)
        self.summary.id_numbers.append(id_number)
        return name, id_number

    def _entry(self, row: dict[str, Any]) -> sandbox.Lifecycle:
        flags = self.flags.get(row["id"], set())
        bound, now = row["bound_at"], self.now
        activated = bound - (self._days(5, 60) if "short_tenure" in flags else self._days(200, 2500))
        owner = self.people[row["borrower_id"]]
        cancelled_at = reissued_at = ported_at = None
        if "reissued" in flags:
            # after the borrower left it (some demo unbindings lie ahead of the seed's time)
            since = max(min(row["unbound_at"] or bound, now - timedelta(days=3)), bound + timedelta(hours=1))
            latest = now - timedelta(hours=1)
            cancelled_at = self._between(since, since + (latest - since) / 2)
            reissued_at = self._between(cancelled_at + timedelta(minutes=1), latest)
        if "reissued" in flags or "mismatch" in flags:
            owner = self._stranger()
        if "cancelled" in flags:
            after = max(bound, reissued_at or bound) + timedelta(hours=1)
            cancelled_at = self._between(after, max(after, now - timedelta(hours=1)))
        carrier = row["carrier"]
        if "ported" in flags:
            ported_at = now - self._days(5, 80)
            carrier = self.rng.choice([c for c in CARRIERS if c != carrier])
        status = next((s for flag, s in _STATUS_FLAGS if flag in flags), LineStatus.NORMAL)
        return sandbox.Lifecycle(
            activated_at=activated, cancelled_at=cancelled_at, reissued_at=reissued_at, ported_at=ported_at,
            carrier=carrier, region=row["region"], virtual="virtual" in flags, status=status,
            owner_name=owner[0], owner_id_number=owner[1],
        )

    def _pick_unnoticed(self, cases: list[dict[str, Any]], taken: set[int], binding_ids: Iterator[int],
                        extra: Extra) -> None:
        """Up to one in four ``recycled_number`` cases re-pointed at a number still bound,
        taken among the complaints nobody has worked past first contact (``new`` and
        ``open``: a complaint on hold, pending or resolved had its number looked at). Each
        goes to a borrower without cases whose number in use is not a plain one (it is
        suspended, or shared with another borrower: a borrower whose only active number
        looks fine stays so), who gets another active binding (a new row, ids after
        every other: ``extra.bindings``) bound long before the complaint, to a number
        masked as the complaint's number was, so lists read as before; the case's
        borrower, binding and sealed number become theirs. No borrower is added (seeds
        keep the borrowers they were asked for): with too few such borrowers, fewer
        complaints are re-pointed. Only ``self.aside`` draws, and no other row changes."""
        rng = self.aside
        if rng is None:
            return
        recycled = sorted((c for c in cases if c["category"] == CaseCategory.RECYCLED_NUMBER
                           and c.get("binding_id") is not None), key=lambda c: c["id"])
        fresh = [c for c in recycled if c["status"] in UNNOTICED_STATUSES]
        chosen = rng.sample(fresh, min(len(fresh), math.ceil(len(recycled) / 4)))
        with_cases = {c.get("borrower_id") for c in cases}
        plain = {row["borrower_id"] for row in self.rows.values()
                 if row["status"] == BindingStatus.ACTIVE and row["id"] not in taken}
        idle = sorted({row["borrower_id"] for row in self.rows.values()} - with_cases - plain)
        for case in sorted(chosen, key=lambda c: c["id"]):
            if not idle:
                break
            borrower_id = rng.choice(idle)
            idle.remove(borrower_id)
            binding_id = next(binding_ids)
            first = min(row["bound_at"] for row in self.rows.values() if row["borrower_id"] == borrower_id)
            latest = case["created_at"] - timedelta(days=150)
            bound_at = self._between_with(rng, min(first + timedelta(days=1), latest), latest)
            e164 = d.lookalike_number(rng, self.numbers[case["binding_id"]], self.taken)
            self.phone_positions[binding_id] = len(self.summary.phones)
            self.summary.phones.append(e164)
            carrier, region = describe(e164)
            row = {
                "id": binding_id, "borrower_id": borrower_id, "key_version": self.version,
                "phone_enc": self._seal(borrower_id, e164, aad("phone_bindings", "phone_enc", binding_id)),
                "phone_index": self.keyring.blind_index(e164, version=self.version), "phone_masked": mask(e164),
                "last4": last_four(e164), "carrier": carrier, "region": region,
                "status": str(BindingStatus.ACTIVE), "bound_at": bound_at, "unbound_at": None,
            }
            self.rows[binding_id] = row
            self.numbers[binding_id] = e164
            extra.bindings.append(row)
            case.update(
                borrower_id=borrower_id, binding_id=binding_id,
                phone_enc=self._seal(borrower_id, e164, aad("cases", "phone_enc", case["id"])),
                phone_index=row["phone_index"], phone_masked=row["phone_masked"], phone_last4=row["last4"],
            )
            self.unnoticed[binding_id] = case

    @staticmethod
    def _between_with(rng: random.Random, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))

    def _reissued_unnoticed(self, row: dict[str, Any]) -> sandbox.Lifecycle:
        """The number of an unnoticed complaint: held by the borrower since long before
        the binding, cancelled 60–120 days before its re-issue to a stranger, 5–60 days
        before the complaint (both after the binding began). Only ``self.aside`` draws."""
        rng, case = self.aside, self.unnoticed[row["id"]]
        assert rng is not None
        activated_at = row["bound_at"] - timedelta(days=rng.uniform(200, 2500))
        reissued_at = case["created_at"] - timedelta(days=rng.uniform(5, 60))
        cancelled_at = max(reissued_at - timedelta(days=rng.uniform(60, 120)), row["bound_at"] + timedelta(days=1))
        name, id_number = d.person_name(rng), d.id_number(rng)
        self.summary.names.append(name)
        self.summary.id_numbers.append(id_number)
        return sandbox.Lifecycle(
            activated_at=activated_at, cancelled_at=cancelled_at, reissued_at=reissued_at, carrier=row["carrier"],
            region=row["region"], status=LineStatus.NORMAL, owner_name=name, owner_id_number=id_number,
        )

    def _share(self, source: int, taken: set[int], cases: list[dict[str, Any]]) -> int | None:
        """Give another borrower's active binding the number of binding ``source``: one
        number, two borrowers. Prefers a borrower without cases and whose number has no
        story of its own; that borrower's cases follow the number. Returns the binding."""
        owner = self.rows[source]["borrower_id"]
        with_cases = {row.get("binding_id") for row in cases}
        candidates = [
            row["id"] for row in self.rows.values()
            if row["status"] == BindingStatus.ACTIVE and row["borrower_id"] != owner
            and row["id"] not in taken and not self.flags.get(row["id"])
            and row["borrower_id"] not in self.recent
        ]
        if not candidates:
            return None
        quiet = [b for b in candidates if b not in with_cases]
        chosen = self.rng.choice(sorted(quiet or candidates))
        e164 = self.numbers[source]
        row, model = self.rows[chosen], self.rows[source]
        row.update(
            phone_enc=self._seal(row["borrower_id"], e164, aad("phone_bindings", "phone_enc", chosen)),
            phone_index=model["phone_index"], phone_masked=model["phone_masked"], last4=model["last4"],
            carrier=model["carrier"], region=model["region"],
        )
        self.numbers[chosen] = e164
        self.summary.phones[self.phone_positions[chosen]] = e164
        for case in cases:
            if case.get("binding_id") == chosen:
                case.update(
                    phone_enc=self._seal(case.get("borrower_id"), e164, aad("cases", "phone_enc", case["id"])),
                    phone_index=model["phone_index"], phone_masked=model["phone_masked"], phone_last4=model["last4"],
                )
        return chosen

    def finish(self, *, next_binding_id: int, next_lifecycle_id: int, cases: list[dict[str, Any]]) -> Extra:
        """The registry, the numbers shared between borrowers, the older numbers of
        rebinding borrowers and the numbers of the unnoticed recycled-number complaints
        (new bindings, ids from ``next_binding_id``), the first checks and scores.
        ``cases`` (not inserted yet) follow their numbers."""
        extra = Extra()
        binding_ids = itertools.count(next_binding_id)
        taken: set[int] = set()
        for binding_id in sorted(b for b, flags in self.flags.items() if "shared" in flags):
            shared = self._share(binding_id, taken, cases)
            if shared is not None:
                taken |= {binding_id, shared}
        for borrower_id in sorted(self.recent):
            history = self._history(borrower_id)
            if borrower_id in self.rebinders and len(history) < 3:
                added = [self._old_binding(borrower_id, history[0]["bound_at"], next(binding_ids))
                         for _ in range(3 - len(history))]
                if self.rng.random() < 0.5:
                    self.flags[added[-1]["id"]].add(self.rng.choice(["shut_down", "cancelled"]))
                extra.bindings += added
                history = added + history
            self._make_recent(history)
        self._pick_unnoticed(cases, taken, binding_ids, extra)
        entries: dict[str, sandbox.Lifecycle] = {}
        for binding_id in sorted(self.rows):
            if binding_id in self.unnoticed:  # the newest rows: after every other entry
                entries[self.numbers[binding_id]] = self._reissued_unnoticed(self.rows[binding_id])
            elif binding_id not in taken or self.flags.get(binding_id):  # a shared number: its first story
                entries[self.numbers[binding_id]] = self._entry(self.rows[binding_id])
        for offset, (e164, entry) in enumerate(entries.items()):
            extra.lifecycle.append(sandbox.row_values(self.keyring, next_lifecycle_id + offset, e164, entry, self.version))
        self._score(entries, extra)
        return extra

    def _score(self, entries: dict[str, sandbox.Lifecycle], extra: Extra) -> None:
        policy, now = default_policy(), self.now
        holders: dict[str, set[int]] = defaultdict(set)
        starts: dict[int, list[datetime]] = defaultdict(list)
        for row in self.rows.values():
            starts[row["borrower_id"]].append(row["bound_at"])
            if row["status"] == BindingStatus.ACTIVE:
                holders[self.numbers[row["id"]]].add(row["borrower_id"])
                extra.active.setdefault(row["borrower_id"], set()).add(row["id"])
        window = now - timedelta(days=90)
        for binding_id in sorted(self.rows):
            row = self.rows[binding_id]
            e164, borrower_id = self.numbers[binding_id], row["borrower_id"]
            name, id_number = self.people[borrower_id]
            report = sandbox.evaluate(entries[e164], reference_date=row["bound_at"].date(), checked_at=now,
                                      identity=Identity(name=name, id_number=id_number))
            facts = BindingFacts(
                bound_at=row["bound_at"],
                other_borrowers=len(holders[e164] - {borrower_id}),
                rebinds_90d=sum(1 for start in sorted(starts[borrower_id])[1:] if window < start <= now),
            )
            assessment = assess(facts, report, policy, at=now)
            extra.scores[binding_id] = assessment.score
            extra.reports.append({"binding_id": binding_id, "case_id": None, "provider": report.provider,
                                  "checked_at": now, "report": report.model_dump(mode="json"), "unavailable": None})
            extra.assessments.append({
                "binding_id": binding_id, "case_id": None, "score": assessment.score,
                "level": str(assessment.level), "stop_contact": assessment.stop_contact,
                "assessment": assessment.model_dump(mode="json"), "assessed_at": now, "checked_at": now,
                "attempted_at": now,
            })
