"""Personal data never leaves the server or sits on disk in plain text."""

from __future__ import annotations

import pytest

from linkdesk.client import DeskClient
from linkdesk.domain.phones import national_digits
from linkdesk.domain.views import CaseQuery, CaseState
from linkdesk.server import demo_data

from .conftest import Desk, raw


def secrets_of(desk: Desk) -> list[str]:
    assert desk.summary is not None
    # Names that also occur in public text (an agent's display name, a canned sentence)
    # would match by coincidence, not by leak.
    public = " ".join(
        [dn for _, dn, _ in demo_data.AGENTS]
        + [s for subjects in demo_data.SUBJECTS.values() for s in subjects]
        + [s for sentences in demo_data.BODY_SENTENCES.values() for s in sentences]
        + demo_data.GENERAL_SENTENCES + demo_data.COMMENTS + demo_data.NOTES
    )
    names = [n for n in desk.summary.names if n not in public]
    phones = desk.summary.phones + [national_digits(p) for p in desk.summary.phones]
    return names + desk.summary.id_numbers + phones


async def test_no_answer_holds_personal_data(seeded: Desk, reader: DeskClient) -> None:
    secrets = secrets_of(seeded)
    assert len(secrets) > 300
    texts = []
    async with raw(seeded) as http:
        cursor = None
        while True:
            params = {"state": "all", "limit": 200} | ({"cursor": cursor} if cursor else {})
            response = await http.get("/cases", params=params)
            texts.append(response.text)
            if (cursor := response.json()["next_cursor"]) is None:
                break
        for item in (await reader.list_cases(CaseQuery(state=CaseState.ALL), limit=60)).items:
            texts.append((await http.get(f"/cases/{item.ref}")).text)
            texts.append((await http.get(f"/cases/{item.ref}/events")).text)
        texts.append((await http.get("/views")).text)
        texts.append((await http.get("/agents")).text)
    blob = "\n".join(texts)
    assert '"borrower":{"ref"' in blob.replace(" ", "")  # borrowers were in the answers
    leaked = [s for s in secrets if s in blob]
    assert leaked == []


def test_database_file_holds_no_plain_personal_data(seeded: Desk) -> None:
    if seeded.db_path is None:
        pytest.skip("a file check is for SQLite")
    data = b""
    for suffix in ("", "-wal"):
        path = seeded.db_path.with_name(seeded.db_path.name + suffix)
        if path.exists():
            data += path.read_bytes()
    assert len(data) > 100_000
    assert "借款人".encode() in data  # plain case text is there: the check can see text
    leaked = [s for s in secrets_of(seeded) if s.encode("utf-8") in data]
    assert leaked == []


async def test_after_reveals_only_the_reveal_answers_held_the_values(fresh: Desk, caplog) -> None:  # type: ignore[no-untyped-def]
    """Reveal every field of a few cases, then read everything else the desk answers and
    the database file: no seeded value appears outside the reveal answers themselves."""
    import logging

    from linkdesk.server.demo import seed_demo

    from .conftest import SEED_NOW

    caplog.set_level(logging.DEBUG)
    fresh.summary = seed_demo(fresh.engine, fresh.keyring, cases=80, borrowers=30, seed=8, now=SEED_NOW)
    secrets = secrets_of(fresh)
    revealed, texts = [], []
    reason = {"reason": "identity_verification", "note": "caller stated the number"}
    async with raw(fresh) as http:
        texts.append((await http.post("/sessions", json={"client": "privacy test"})).text)
        listing = (await http.get("/cases", params={"limit": 200})).json()["items"]
        with_borrower = [c["ref"] for c in listing if c["phone"]][:5]
        for ref in with_borrower:
            for field in ("phone", "name", "id_number"):
                response = await http.post(f"/cases/{ref}/reveal", json={"field": field} | reason)
                if response.status_code == 200:
                    revealed.append(response.json()["value"])
            texts.append((await http.get(f"/cases/{ref}")).text)
            texts.append((await http.get(f"/cases/{ref}/events", params={"limit": 200})).text)
        for path in ("/audit", "/me", "/agents", "/desk/settings", "/views"):
            texts.append((await http.get(path, params={"limit": 200} if path == "/audit" else None)).text)
        texts.append((await http.post("/audit/verify")).text)
        texts.append((await http.get("/cases", params={"state": "all", "limit": 200})).text)
    assert len(revealed) >= 10
    blob = "\n".join(texts) + caplog.text
    assert "identity_verification" in blob  # the audit answers are in what we looked at
    assert [s for s in secrets if s in blob] == []
    if fresh.db_path is not None:
        data = b"".join(
            p.read_bytes() for p in (fresh.db_path, fresh.db_path.with_name(fresh.db_path.name + "-wal")) if p.exists()
        )
        assert [s for s in secrets + revealed if s.encode("utf-8") in data] == []
