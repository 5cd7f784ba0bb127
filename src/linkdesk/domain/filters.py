"""The case filter language: free text plus ``key:value`` terms (docs/filters.md).

One parser for the console (completion, the caret under a bad term), the CLI and the
server, which is the authority: it turns a :class:`CaseFilter` into SQL. Parsing never
raises: every problem is a :class:`FilterError` with where it is in the text (character
offsets ``start``/``end``) and why, and the parse goes on so that all of them are found.

A phone term's value is never repeated in an error (``phone:…``): it may be a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from linkdesk.domain.cases import CaseCategory, CaseStatus, Priority

DESK_ZONE = ZoneInfo("Asia/Shanghai")
"""Dates in a filter (``created:2026-11-01``, ``sla:today``) are days on the mainland."""

MAX_LENGTH = 500
MAX_TEXT = 200
KEYS = ("status", "cat", "prio", "risk", "assignee", "sla", "phone", "tag", "created", "updated")
ALIASES = {"category": "cat", "priority": "prio"}
NEGATABLE = frozenset({"status", "cat", "prio", "assignee", "tag"})
STATUS_GROUPS: dict[str, frozenset[CaseStatus]] = {
    "active": frozenset({CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.ON_HOLD}),
    "done": frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED}),
}
SLA_VALUES = ("breached", "today", "paused")
PRIORITY_ORDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)

Bound = datetime | timedelta
"""An absolute instant, or an offset from now (negative: in the past)."""


def N_(text: str) -> str:
    """Marks a message for translation; the console translates it when it shows it."""
    return text


@dataclass(frozen=True)
class FilterError:
    """A term that does not parse: where it is (characters), the term and why."""

    start: int
    end: int
    term: str
    template: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template.format(**self.values)


class InvalidFilter(ValueError):
    """A filter with at least one bad term; ``errors[0]`` is the first."""

    def __init__(self, errors: list[FilterError]) -> None:
        first = errors[0]
        super().__init__(f"{first.term}: {first.message}")
        self.errors = errors


@dataclass(frozen=True)
class TimeRange:
    after: Bound | None = None
    """From this instant on (inclusive)."""
    before: Bound | None = None
    """Until this instant (exclusive)."""

    def resolve(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        def at(bound: Bound | None) -> datetime | None:
            return now + bound if isinstance(bound, timedelta) else bound

        return at(self.after), at(self.before)


@dataclass(frozen=True)
class CaseFilter:
    """What a filter asks for; empty sets and None mean "any"."""

    text: str = ""
    statuses: frozenset[CaseStatus] = frozenset()
    not_statuses: frozenset[CaseStatus] = frozenset()
    categories: frozenset[CaseCategory] = frozenset()
    not_categories: frozenset[CaseCategory] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    not_priorities: frozenset[Priority] = frozenset()
    risk_min: int | None = None
    risk_max: int | None = None
    assignees: frozenset[str] = frozenset()
    """Agent names, ``me`` or ``none``: any of them."""
    not_assignees: frozenset[str] = frozenset()
    sla: frozenset[str] = frozenset()
    """Each of ``breached``, ``today``, ``paused`` that must hold."""
    phone_last4: str | None = None
    phone_number: str | None = None
    """A whole number as typed (digits and ``+``); the server normalises and looks it up."""
    tags: frozenset[str] = frozenset()
    """Every one of these tags."""
    not_tags: frozenset[str] = frozenset()
    created: TimeRange | None = None
    updated: TimeRange | None = None

    @property
    def lists_by_due(self) -> bool:
        """An SLA filter (``sla:breached``, ``sla:today``) lists due soonest first unless
        an order is asked for: the most overdue on top, and read off the due-date index
        (by latest activity the desk would walk most open cases to find the old, overdue
        ones: docs/performance.md)."""
        return bool(self.sla & {"breached", "today"})


@dataclass(frozen=True)
class Term:
    """Where a term that parsed is, and what it sets (its key; ``risk_min`` or
    ``risk_max`` for a risk bound)."""

    start: int
    end: int
    key: str


@dataclass(frozen=True)
class ParsedFilter:
    filter: CaseFilter
    errors: list[FilterError]
    terms: list[Term] = field(default_factory=list)


def end_of_desk_day(now: datetime) -> datetime:
    """The next midnight in Asia/Shanghai after ``now``."""
    local = now.astimezone(DESK_ZONE)
    return datetime.combine(local.date() + timedelta(days=1), time(), DESK_ZONE)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), DESK_ZONE)


# -- scanning -----------------------------------------------------------------------------

_TERM = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)
_RISK_SHORT = re.compile(r"(risk)(>=|<=|>|<)(.*)", re.DOTALL | re.IGNORECASE)
_OP = re.compile(r"(>=|<=|>|<)?(.*)", re.DOTALL)
_RELATIVE = re.compile(r"-?(\d{1,4})([hdw])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME = re.compile(r"[a-z0-9._-]{1,64}")
_LAST4 = re.compile(r"\d{4}")
_NUMBER = re.compile(r"\+?[\d\- ]{7,20}")
_LONG_DIGITS = re.compile(r"\d[\d\- ]{5,}\d")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def _tokens(value: str) -> list[tuple[int, int, str, bool]]:
    """(start, end, raw token, unterminated quote) of each whitespace-separated token;
    whitespace inside double quotes belongs to the token."""
    tokens = []
    i, n = 0, len(value)
    while i < n:
        if value[i].isspace():
            i += 1
            continue
        start, quoted = i, False
        while i < n and (quoted or not value[i].isspace()):
            if value[i] == '"':
                quoted = not quoted
            i += 1
        tokens.append((start, i, value[start:i], quoted))
    return tokens


def _unquote(text: str) -> str:
    return text.replace('"', "")


class _Parser:
    def __init__(self, value: str) -> None:
        self.value = value
        self.errors: list[FilterError] = []
        self.fields: dict[str, object] = {}
        self.text: list[tuple[int, int, str]] = []
        self.seen: set[str] = set()
        self.terms: list[Term] = []
        self.slot = ""

    def error(self, start: int, end: int, template: str, **values: str) -> None:
        term = self.value[start:end]
        if term.lstrip("-").lower().startswith("phone") and ":" in term:
            term = term[: term.index(":") + 1] + "…"
        # never repeat what may be a phone number (dates stay)
        term = _LONG_DIGITS.sub(lambda m: m.group() if _DATE.fullmatch(m.group()) else "…", term)
        self.errors.append(FilterError(start, end, term, template, {k: str(v) for k, v in values.items()}))

    def run(self) -> ParsedFilter:
        if len(self.value) > MAX_LENGTH:
            self.error(MAX_LENGTH, len(self.value), N_("a filter is at most {n} characters"), n=str(MAX_LENGTH))
            return ParsedFilter(CaseFilter(), self.errors)
        for start, end, raw, open_quote in _tokens(self.value):
            if open_quote:
                self.error(start, end, N_('a quote is not closed: add " at the end'))
                continue
            errors, texts = len(self.errors), len(self.text)
            self.slot = ""
            self.token(start, end, raw)
            if len(self.errors) == errors and len(self.text) == texts and self.slot:
                self.terms.append(Term(start, end, self.slot))
        words = [word for _s, _e, word in self.text if word]
        text = " ".join(words)
        if len(text) > MAX_TEXT:
            start, end, _w = self.text[-1]
            self.error(start, end, N_("the free text is at most {n} characters"), n=str(MAX_TEXT))
            text = ""
        fields = {k: v for k, v in self.fields.items() if v is not None}
        return ParsedFilter(CaseFilter(text=text, **fields), self.errors, self.terms)  # type: ignore[arg-type]

    def token(self, start: int, end: int, raw: str) -> None:
        negated = raw.startswith("-") and len(raw) > 1
        body = raw[1:] if negated else raw
        short = _RISK_SHORT.fullmatch(body)
        match = _TERM.fullmatch(body)
        if short and not negated:  # risk>=60, the spelling of the first console filter
            self.slot = "risk"
            self.risk(start, end, short.group(2) + _unquote(short.group(3)))
            return
        if match is None:
            if negated:
                self.error(start, end, N_("only terms can be excluded with -, e.g. -tag:vip"))
                return
            self.text.append((start, end, _unquote(raw)))
            return
        key = match.group(1).lower()
        key = ALIASES.get(key, key)
        value = _unquote(match.group(2)).strip()
        if key not in KEYS:
            self.error(start, end, N_("unknown key {key}: use one of {keys}"), key=match.group(1),
                       keys=", ".join(KEYS))
            return
        if negated and key not in NEGATABLE:
            self.error(start, end, N_("{key}: cannot be excluded with -"), key=key)
            return
        if not value:
            self.error(start, end, N_("{key}: needs a value, e.g. {example}"), key=key, example=_EXAMPLES[key])
            return
        self.slot = key
        getattr(self, key if key not in ("created", "updated") else "period")(start, end, value, negated, key)

    def once(self, start: int, end: int, slot: str, key: str) -> bool:
        if slot in self.seen:
            self.error(start, end, N_("{key}: only once, please (a comma list gives several values)"), key=key)
            return False
        self.seen.add(slot)
        return True

    # -- keys ----------------------------------------------------------------------------

    def choose(self, start: int, end: int, key: str, item: str, options: list[str]) -> list[str] | None:
        item = item.lower()
        if item in options:
            return [item]
        found = [option for option in options if option.startswith(item)]
        if len(found) == 1:
            return found
        if found:
            self.error(start, end, N_("{key}: {value} could be {options}"), key=key, value=item,
                       options=", ".join(found))
        else:
            self.error(start, end, N_("{key}: {value} is not one of {options}"), key=key, value=item,
                       options=", ".join(options))
        return None

    def enum_set(self, start: int, end: int, key: str, value: str, options: list[str]) -> set[str] | None:
        chosen: set[str] = set()
        for item in value.split(","):
            if not item.strip():
                self.error(start, end, N_("{key}: an empty value in the list"), key=key)
                return None
            found = self.choose(start, end, key, item.strip(), options)
            if found is None:
                return None
            chosen.update(found)
        return chosen

    def status(self, start: int, end: int, value: str, negated: bool, key: str) -> None:
        chosen = self.enum_set(start, end, key, value, [str(s) for s in CaseStatus] + list(STATUS_GROUPS))
        if chosen is None or not self.once(start, end, f"{negated}{key}", key):
            return
        statuses: set[CaseStatus] = set()
        for name in chosen:
            statuses |= STATUS_GROUPS.get(name) or {CaseStatus(name)}
        self.fields["not_statuses" if negated else "statuses"] = frozenset(statuses)

    def cat(self, start: int, end: int, value: str, negated: bool, key: str) -> None:
        chosen = self.enum_set(start, end, key, value, [str(c) for c in CaseCategory])
        if chosen is not None and self.once(start, end, f"{negated}{key}", key):
            self.fields["not_categories" if negated else "categories"] = frozenset(map(CaseCategory, chosen))

    def prio(self, start: int, end: int, value: str, negated: bool, key: str) -> None:
        op, rest = _OP.fullmatch(value).groups()  # type: ignore[union-attr]
        names = [str(p) for p in Priority]
        if op:
            found = self.choose(start, end, key, rest, names)
            if found is None:
                return
            rank = PRIORITY_ORDER.index(Priority(found[0]))
            keep = {
                ">=": lambda r: r >= rank, ">": lambda r: r > rank,
                "<=": lambda r: r <= rank, "<": lambda r: r < rank,
            }[op]
            chosen = {str(p) for r, p in enumerate(PRIORITY_ORDER) if keep(r)}
            if not chosen:
                self.error(start, end, N_("{key}: no priority is {value}"), key=key, value=value)
                return
        else:
            chosen = self.enum_set(start, end, key, value, names)  # type: ignore[assignment]
            if chosen is None:
                return
        if self.once(start, end, f"{negated}{key}", key):
            self.fields["not_priorities" if negated else "priorities"] = frozenset(map(Priority, chosen))

    def risk(self, start: int, end: int, value: str, negated: bool = False, key: str = "risk") -> None:
        op, number = _OP.fullmatch(value).groups()  # type: ignore[union-attr]
        if not number.isascii() or not number.isdigit() or len(number) > 3:
            self.error(start, end, N_("risk:>=N with a score N from 0 to 100 (or >, <=, <)"))
            return
        score = int(number) + {">": 1, "<": -1}.get(op or "", 0)
        if not 0 <= score <= 100:
            self.error(start, end, N_("risk: a score is from 0 to 100"))
            return
        slot = "risk_max" if op in ("<", "<=") else "risk_min"
        if self.once(start, end, slot, "risk"):
            self.fields[slot] = score
            self.slot = slot

    def assignee(self, start: int, end: int, value: str, negated: bool, key: str) -> None:
        names = {item.strip().lower() for item in value.split(",")}
        bad = next((name for name in names if not _NAME.fullmatch(name)), None)
        if bad is not None:
            self.error(start, end, N_("assignee: me, none or an agent's login name"))
            return
        if self.once(start, end, f"{negated}{key}", key):
            self.fields["not_assignees" if negated else "assignees"] = frozenset(names)

    def sla(self, start: int, end: int, value: str, negated: bool, key: str) -> None:
        found = self.choose(start, end, key, value, list(SLA_VALUES))
        if found is not None:
            self.fields["sla"] = frozenset(self.fields.get("sla") or ()) | set(found)  # type: ignore[arg-type]

    def phone(self, start: int, end: int, value: str, negated: bool, key: str) -> None:
        if _LAST4.fullmatch(value):
            slot, stored = "phone_last4", value
        elif _NUMBER.fullmatch(value) and sum(c.isdigit() for c in value) >= 7:
            slot, stored = "phone_number", value.replace("-", "").replace(" ", "")
        else:
            self.error(start, end, N_("phone: the last four digits or a whole number"))
            return
        if self.once(start, end, "phone", key):
            self.fields[slot] = stored

    def tag(self, start: int, end: int, value: str, negated: bool, key: str) -> None:
        if len(value) > 40:
            self.error(start, end, N_("tag: at most 40 characters"))
            return
        slot = "not_tags" if negated else "tags"
        self.fields[slot] = frozenset(self.fields.get(slot) or ()) | {value}  # type: ignore[arg-type]

    def period(self, start: int, end: int, value: str, negated: bool, key: str) -> None:
        bounds = self.time_range(start, end, key, value)
        if bounds is None or not self.once(start, end, key, key):
            return
        after, before = bounds
        if after is not None and before is not None and _ordered(after, before) is False:
            self.error(start, end, N_("{key}: the range ends before it starts"), key=key)
            return
        self.fields[key] = TimeRange(after, before)

    def time_range(self, start: int, end: int, key: str, value: str) -> tuple[Bound | None, Bound | None] | None:
        bad = N_("{key}: a date (2026-11-01), a time ago (-7d, -12h, -2w) or a range a..b, with > or <")
        if ".." in value:
            low, _sep, high = value.partition("..")
            first = self.instant(low, end=False) if low else None
            last = self.instant(high, end=True) if high else None
            if (low and first is None) or (high and last is None) or not (low or high):
                self.error(start, end, bad, key=key)
                return None
            return first, last
        op, rest = _OP.fullmatch(value).groups()  # type: ignore[union-attr]
        at_start, at_end = self.instant(rest, end=False), self.instant(rest, end=True)
        if at_start is None or at_end is None:
            self.error(start, end, bad, key=key)
            return None
        relative = isinstance(at_start, timedelta)
        if op in (">", ">=") or (op is None and relative):
            return (at_end if op == ">" else at_start), None
        if op in ("<", "<="):
            return None, (at_end if op == "<=" else at_start)
        return at_start, at_end  # one day

    @staticmethod
    def instant(text: str, *, end: bool) -> Bound | None:
        """A relative time (``-7d``), or the start of a day (the start of the next day
        when ``end``)."""
        relative = _RELATIVE.fullmatch(text)
        if relative:
            return -int(relative.group(1)) * _UNITS[relative.group(2)]
        if _DATE.fullmatch(text):
            try:
                day = date.fromisoformat(text)
            except ValueError:
                return None
            return _day_start(day + timedelta(days=1) if end else day)
        return None


def _ordered(after: Bound, before: Bound) -> bool | None:
    """Whether ``after`` comes before ``before``; None when one is relative and one is not."""
    if isinstance(after, timedelta) and isinstance(before, timedelta):
        return after < before
    if isinstance(after, datetime) and isinstance(before, datetime):
        return after < before
    return None


_EXAMPLES = {
    "status": "status:open", "cat": "cat:rebind", "prio": "prio:>=high", "risk": "risk:>=60",
    "assignee": "assignee:me", "sla": "sla:breached", "phone": "phone:1234", "tag": "tag:vip",
    "created": "created:>-7d", "updated": "updated:<2026-11-01",
}


def parse(value: str) -> ParsedFilter:
    """The filter and every error in it; never raises."""
    return _Parser(value).run()


def parse_strict(value: str) -> CaseFilter:
    """The filter, or :class:`InvalidFilter` naming the first bad term."""
    parsed = parse(value)
    if parsed.errors:
        raise InvalidFilter(parsed.errors)
    return parsed.filter
