"""Risk scoring speed (issue 4: at least 200,000 bindings a second on one core).

Builds ``--bindings`` varied (BindingFacts, IntelReport) pairs with a fixed seed — a
refresh of a desk's active bindings: most numbers clean, a few per cent with each kind
of evidence, 5 % without a report — and times three passes over all of them:

* **assess** — ``linkdesk.domain.risk.assess(facts, report, policy, at=…)`` for every
  pair, the result dropped (as a re-score stores it and moves on).
* **floor** — the same decisions in a bare Python loop over plain tuples (str values,
  UTC days precomputed, weights in local variables): the sum of weights, the cap and
  the level, with no models, no signal objects and no evidence text. Its scores and
  levels are asserted equal to assess's for every pair.
* **validated** — for scale: building the same assessments (signals and all) with
  pydantic validation from plain dicts, which is what assess avoids on its hot path.

Each pass is warmed up once; then ``--rounds`` rounds, each walking the pairs in chunks
of ``--chunk`` and timing the three passes on each chunk back to back (order rotating,
``gc.collect()`` before each; the inputs are ``gc.freeze()``d). Figures: the median over
rounds of the summed chunk times, wall and CPU time of the process; "one core" is read
as CPU time, since the VM is shared. Ratio = median over chunks of assess CPU time /
floor CPU time on the same chunk. The process is pinned to one CPU where the OS allows.

    python benchmarks/risk.py [--bindings 100000] [--rounds 7] [--json FILE]
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from linkdesk.domain.intel import IdentityMatch, IntelReport, LineStatus, Reassigned, Tenure
from linkdesk.domain.risk import (
    BindingFacts,
    RiskAssessment,
    RiskPolicy,
    RiskSignal,
    assess,
    default_policy,
)

AT = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
PROVIDERS = ["sandbox", "aliyun", "twilio"]
CARRIERS = ["China Mobile", "China Unicom", "China Telecom", None]

# value → weight, roughly a lending desk's book
LINE = {
    "normal": 80,
    "power_off": 5,
    "shut_down": 5,
    "empty": 3,
    "abnormal": 2,
    "busy": 2,
    "unknown": 3,
}
TENURE = {
    "over_24m": 50,
    "12_to_24m": 15,
    "6_to_12m": 10,
    "3_to_6m": 8,
    "under_3m": 7,
    "unknown": 10,
}
REASSIGNED = {"no": 85, "unknown": 8, "cancelled": 4, "yes": 3}
VIRTUAL = {False: 85, None: 10, True: 5}
SWAP = {None: 50, False: 45, True: 5}
IDENTITY = {None: 60, "match": 30, "mismatch": 4, "not_found": 3, "unknown": 3}
OTHERS = {0: 90, 1: 6, 2: 2, 3: 1, 5: 1}
REBINDS = {0: 85, 1: 10, 2: 3, 3: 1, 4: 1}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pick(rng: random.Random, table: dict[Any, int]) -> Any:
    return rng.choices(list(table), weights=list(table.values()))[0]


def make_pairs(count: int, seed: int) -> list[tuple[BindingFacts, IntelReport | None]]:
    rng = random.Random(seed)
    first = datetime(2024, 1, 1, tzinfo=UTC)
    span = int((AT - timedelta(days=30) - first).total_seconds())
    pairs = []
    for _ in range(count):
        bound_at = first + timedelta(seconds=rng.randrange(span))
        facts = BindingFacts(
            bound_at=bound_at, other_borrowers=pick(rng, OTHERS), rebinds_90d=pick(rng, REBINDS)
        )
        if rng.random() < 0.05:
            pairs.append((facts, None))
            continue
        identity = pick(rng, IDENTITY)
        report = IntelReport(
            provider=rng.choice(PROVIDERS),
            checked_at=AT - timedelta(seconds=rng.randrange(30 * 86400)),
            reference_date=bound_at.date(),
            line_status=LineStatus(pick(rng, LINE)),
            tenure=Tenure(pick(rng, TENURE)),
            reassigned=Reassigned(pick(rng, REASSIGNED)),
            virtual=pick(rng, VIRTUAL),
            recent_port_or_swap=pick(rng, SWAP),
            carrier=rng.choice(CARRIERS),
            identity=None if identity is None else IdentityMatch(identity),
        )
        pairs.append((facts, report))
    return pairs


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def plain(pairs: list[tuple[BindingFacts, IntelReport | None]]) -> list[tuple[Any, ...]]:
    """The floor's input: every fact as a str, bool, int or date, days already in UTC."""
    rows = []
    for facts, report in pairs:
        bound_day = utc_day(facts.bound_at)
        if report is None:
            rows.append(
                (
                    False,
                    "",
                    bound_day,
                    bound_day,
                    "",
                    "",
                    None,
                    None,
                    "",
                    bound_day,
                    facts.other_borrowers,
                    facts.rebinds_90d,
                )
            )
            continue
        rows.append(
            (
                True,
                str(report.reassigned),
                report.reference_date,
                bound_day,
                str(report.identity) if report.identity is not None else "",
                str(report.line_status),
                report.virtual,
                report.recent_port_or_swap,
                str(report.tenure),
                utc_day(report.checked_at),
                facts.other_borrowers,
                facts.rebinds_90d,
            )
        )
    return rows


def floor_scorer(policy: RiskPolicy) -> Callable[[list[tuple[Any, ...]]], list[tuple[int, str]]]:
    signals = policy.signals
    w_reassigned = signals.reassigned.weight
    w_cancelled = signals.cancelled.weight
    w_identity = signals.identity_mismatch.weight
    w_line = signals.line_down.weight
    w_virtual = signals.virtual_number.weight
    w_swap = signals.recent_port_or_swap.weight
    w_tenure = signals.short_tenure.weight
    w_shared = signals.shared_number.weight
    w_rebinds = signals.repeated_rebinds.weight
    down = {str(status) for status in signals.line_down.statuses}
    tenure_months = signals.short_tenure.months
    min_others = signals.shared_number.min_other_borrowers
    min_rebinds = signals.repeated_rebinds.min_rebinds
    upper = {"under_3m": 3, "3_to_6m": 6, "6_to_12m": 12, "12_to_24m": 24}
    medium, high, critical_from = policy.levels.medium, policy.levels.high, policy.levels.critical

    def score_all(rows: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
        out = []
        for (
            has_report,
            reassigned,
            since,
            bound_day,
            identity,
            status,
            virtual,
            swap,
            tenure,
            checked_day,
            others,
            rebinds,
        ) in rows:
            total = 0
            critical = False
            if has_report:
                if reassigned == "yes":
                    if since >= bound_day:
                        total += w_reassigned
                        critical = True
                elif reassigned == "cancelled":
                    total += w_cancelled
                if identity == "mismatch":
                    total += w_identity
                if status in down:
                    total += w_line
                if virtual is True:
                    total += w_virtual
                if swap is True:
                    total += w_swap
                edge = upper.get(tenure)
                if edge is not None:
                    months = (
                        (checked_day.year - bound_day.year) * 12
                        + checked_day.month
                        - bound_day.month
                        - (checked_day.day < bound_day.day)
                    )
                    if 0 < edge - months <= tenure_months:
                        total += w_tenure
            if others >= min_others:
                total += w_shared
            if rebinds >= min_rebinds:
                total += w_rebinds
            score = min(100, total)
            if critical or score >= critical_from:
                level = "critical"
            elif score >= high:
                level = "high"
            elif score >= medium:
                level = "medium"
            else:
                level = "low"
            out.append((score, level))
        return out

    return score_all


def timed(run: Callable[[int], Any], chunk: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one pass over one chunk."""
    gc.collect()
    wall, cpu = time.perf_counter_ns(), time.process_time_ns()
    run(chunk)
    return (time.perf_counter_ns() - wall) / 1e9, (time.process_time_ns() - cpu) / 1e9


def pin_to_one_cpu() -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bindings", type=int, default=100_000, help="pairs to score per pass")
    parser.add_argument("--rounds", type=int, default=7, help="timed passes per figure")
    parser.add_argument(
        "--chunk",
        type=int,
        default=5_000,
        help="pairs per timed slice; the passes alternate slice by slice",
    )
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    cpu = None if args.no_pin else pin_to_one_cpu()
    policy = default_policy()
    log(f"building {args.bindings:,} (facts, report) pairs")
    pairs = make_pairs(args.bindings, args.seed)
    rows = plain(pairs)
    floor = floor_scorer(policy)

    assessments = [assess(facts, report, policy, at=AT) for facts, report in pairs]
    floor_results = floor(rows)
    for (facts, report), assessment, expected in zip(
        pairs, assessments, floor_results, strict=True
    ):
        if (assessment.score, str(assessment.level)) != expected:
            raise SystemExit(
                f"floor disagrees with assess on {facts!r} {report!r}: "
                f"{assessment.score} {assessment.level} vs {expected}"
            )
    as_dicts = [assessment.model_dump() for assessment in assessments]
    mix = {
        "levels": dict(collections.Counter(str(a.level) for a in assessments).most_common()),
        "signals": dict(
            collections.Counter(s.code for a in assessments for s in a.signals).most_common()
        ),
        "with_signals": round(sum(1 for a in assessments if a.signals) / len(assessments), 4),
        "signals_per_assessment": round(
            sum(len(a.signals) for a in assessments) / len(assessments), 3
        ),
        "stop_contact": sum(1 for a in assessments if a.stop_contact),
        "without_report": sum(1 for _, report in pairs if report is None),
    }
    del assessments

    size = args.chunk
    starts = range(0, len(pairs), size)
    pair_chunks = [pairs[start : start + size] for start in starts]
    row_chunks = [rows[start : start + size] for start in starts]
    dict_chunks = [as_dicts[start : start + size] for start in starts]

    def run_assess(chunk: int) -> None:
        for facts, report in pair_chunks[chunk]:
            assess(facts, report, policy, at=AT)

    def run_floor(chunk: int) -> None:
        floor(row_chunks[chunk])

    def run_validated(chunk: int) -> None:
        for values in dict_chunks[chunk]:
            RiskAssessment(
                score=values["score"],
                level=values["level"],
                signals=[RiskSignal(**signal) for signal in values["signals"]],
                stop_contact=values["stop_contact"],
                assessed_at=values["assessed_at"],
                policy=values["policy"],
            )

    gc.freeze()  # the benchmark's own inputs are not what a collection should scan
    passes = {"assess": run_assess, "floor": run_floor, "validated": run_validated}
    names = list(passes)
    for run in passes.values():  # warm-up: the compiled policy, the shared signals
        for chunk in range(len(pair_chunks)):
            run(chunk)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu_time: dict[str, list[float]] = {name: [] for name in names}
    paired: list[float] = []  # assess / floor on the same chunk, moments apart
    for round_ in range(args.rounds):
        totals = {name: [0.0, 0.0] for name in names}
        for chunk in range(len(pair_chunks)):
            turn = (round_ + chunk) % len(names)
            seen = {}
            for name in names[turn:] + names[:turn]:
                seen[name] = timed(passes[name], chunk)
                totals[name][0] += seen[name][0]
                totals[name][1] += seen[name][1]
            paired.append(seen["assess"][1] / seen["floor"][1])
        for name in names:
            wall[name].append(totals[name][0])
            cpu_time[name].append(totals[name][1])
        log(
            f"round {round_ + 1}/{args.rounds}: "
            + ", ".join(f"{name} {wall[name][-1] * 1000:.0f} ms" for name in names)
        )

    def figure(samples: list[float]) -> dict[str, float]:
        median = statistics.median(samples)
        return {
            "median_s": round(median, 4),
            "min_s": round(min(samples), 4),
            "max_s": round(max(samples), 4),
            "per_second": round(args.bindings / median),
            "us_each": round(median / args.bindings * 1e6, 3),
        }

    figures = {name: {"wall": figure(wall[name]), "cpu": figure(cpu_time[name])} for name in names}
    ratio = statistics.median(paired)
    rate = figures["assess"]["cpu"]["per_second"]
    result = {
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pinned_cpu": cpu,
            "platform": platform.platform(),
            "load_average": list(os.getloadavg()),
        },
        "method": {
            "bindings": args.bindings,
            "rounds": args.rounds,
            "chunk": size,
            "seed": args.seed,
            "scored_at": AT.isoformat(),
            "figure": "median over rounds of the summed chunk times; cpu = this process's CPU time",
            "ratio": "median over chunks of assess CPU time / floor CPU time on the same chunk",
        },
        "policy": policy.label,
        "mix": mix,
        "figures": figures,
        "ratio_assess_to_floor": round(ratio, 2),
        "ratio_range": [round(min(paired), 2), round(max(paired), 2)],
        "ratio_validated_to_assess": round(
            figures["validated"]["cpu"]["median_s"] / figures["assess"]["cpu"]["median_s"], 2
        ),
        "target_per_second": 200_000,
        "target_met": rate >= 200_000,
    }
    log("")
    log(f"{'pass':<10} {'wall':>8} {'CPU':>8} {'per CPU-second':>15} {'µs each':>8}")
    for name in names:
        w, c = figures[name]["wall"], figures[name]["cpu"]
        log(
            f"{name:<10} {w['median_s'] * 1000:>5.0f} ms {c['median_s'] * 1000:>5.0f} ms "
            f"{c['per_second']:>15,} {c['us_each']:>8.2f}"
        )
    log(
        f"assess / floor = {ratio:.2f}× (chunks {min(paired):.2f}–{max(paired):.2f}); "
        f"target 200,000/s {'met' if result['target_met'] else 'NOT met'} ({rate:,}/s)"
    )
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
