"""``/views``: the built-in views with their counts (from the maintained tallies)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from linkdesk.domain.views import View, builtin_views
from linkdesk.server import tallies
from linkdesk.server.api.common import CaseReader, SessionDep, json_answer, problems

router = APIRouter(tags=["views"])


class ViewList(BaseModel):
    items: list[View]


@router.get("/views", response_model=ViewList, responses=problems(403))
def get_views(session: SessionDep, caller: CaseReader) -> JSONResponse:
    items = [
        View(id=view_id, title=title, count=tallies.count(session, query, caller.id), query=query)
        for view_id, title, query in builtin_views()
    ]
    return json_answer(ViewList(items=items))
