"""``/cases``: list, create, read, update."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from linkdesk.domain.cases import (
    Case,
    CaseCategory,
    CaseCreate,
    CasePatch,
    CaseStatus,
    CaseSummary,
    Priority,
)
from linkdesk.domain.paging import Page
from linkdesk.domain.views import CaseCount, CaseQuery, CaseSort, CaseState
from linkdesk.server import cases as store
from linkdesk.server.api.common import (
    CaseCreator,
    CaseEditor,
    CaseReader,
    IdempotencyKey,
    SessionDep,
    case_headers,
    expected_version,
    idempotent_create,
    json_answer,
    now,
    problems,
)
from linkdesk.server.listing import count_cases, list_cases

router = APIRouter(tags=["cases"])
FilterParam = Annotated[
    str | None, Query(max_length=500, description="The filter language, e.g. `cat:rebind prio:urgent` (docs/filters.md)")
]


@router.get("/cases", response_model=Page[CaseSummary], responses=problems(400, 403, 422))
def get_cases(
    request: Request,
    session: SessionDep,
    caller: CaseReader,
    state: CaseState = CaseState.OPEN,
    status: CaseStatus | None = None,
    category: CaseCategory | None = None,
    priority: Priority | None = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    risk_min: Annotated[int | None, Query(ge=0, le=100, description="Risk score at least this")] = None,
    filter: FilterParam = None,
    sort: CaseSort = CaseSort.UPDATED_DESC,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> JSONResponse:
    query = CaseQuery(
        state=state, status=status, category=category, priority=priority,
        assignee=assignee or None, q=q or None, risk_min=risk_min, filter=filter or None, sort=sort,
    )
    page = list_cases(session, caller, query, cursor=cursor, limit=limit,
                      keyring=request.app.state.keyring, now=now(request))
    return json_answer(page)


@router.get("/cases/count", response_model=CaseCount, responses=problems(403, 422))
def count_cases_route(
    request: Request,
    session: SessionDep,
    caller: CaseReader,
    state: CaseState = CaseState.OPEN,
    filter: FilterParam = None,
) -> JSONResponse:
    """How many cases match (the inbox's saved views); stops counting at 999 (``capped``)."""
    query = CaseQuery(state=state, filter=filter or None)
    n, capped = count_cases(session, caller, query, keyring=request.app.state.keyring, now=now(request))
    return json_answer(CaseCount(count=n, capped=capped))


@router.post("/cases", status_code=201, response_model=Case, responses=problems(403, 422))
def post_case(
    request: Request,
    data: CaseCreate,
    session: SessionDep,
    caller: CaseCreator,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    keyring = request.app.state.keyring

    def create(at):  # type: ignore[no-untyped-def]
        case_id = store.create_case(session, keyring, caller, data, at)
        return store.get_case(session, case_id).model_dump(mode="json")

    return idempotent_create(
        request, session, caller, idempotency_key, data, create,
        lambda payload: case_headers(payload, location=True),
    )


@router.get("/cases/{ref}", response_model=Case, responses=problems(403, 404, 422))
def get_case(ref: str, session: SessionDep, caller: CaseReader) -> JSONResponse:
    case = store.get_case(session, store.case_id_of(ref))
    return json_answer(case, headers={"ETag": f'"{case.version}"'})


@router.patch("/cases/{ref}", response_model=Case, responses=problems(403, 404, 409, 412, 422, 428))
def patch_case(
    request: Request,
    ref: str,
    patch: CasePatch,
    session: SessionDep,
    caller: CaseEditor,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> JSONResponse:
    version = expected_version(if_match, "case", 3)
    case_id = store.case_id_of(ref)
    store.update_case(session, caller, case_id, patch, version, now(request))
    session.commit()
    case = store.get_case(session, case_id)
    return json_answer(case, headers={"ETag": f'"{case.version}"'})
