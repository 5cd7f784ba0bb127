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
