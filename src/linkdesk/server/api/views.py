"""``/views``: the built-in views with their counts (from the maintained tallies)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from linkdesk.domain.views import CaseQuery, View, builtin_views
from linkdesk.server import tallies
from linkdesk.server.agents import Caller
from linkdesk.server.api.common import CaseReader, SessionDep, json_answer, now, problems
from linkdesk.server.listing import count_cases

router = APIRouter(tags=["views"])


class ViewList(BaseModel):
    items: list[View]


@router.get("/views", response_model=ViewList, responses=problems(403))
def get_views(request: Request, session: SessionDep, caller: CaseReader) -> JSONResponse:
    items = [
        View(id=view_id, title=title, count=_count(session, caller, query, now(request)), query=query)
        for view_id, title, query in builtin_views()
    ]
    return json_answer(ViewList(items=items))


def _count(session: Session, caller: Caller, query: CaseQuery, at: datetime) -> int:
    """From the tallies, except for a view with a filter (``sla:today``): a capped COUNT."""
    if query.filter:
        return count_cases(session, caller, query, now=at)[0]
    return tallies.count(session, query, caller.id)
