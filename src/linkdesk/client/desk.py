"""``DeskClient``: the typed async client of the desk API.

The console and the CLI talk to a desk only through this class, whether the desk is
a remote server, the local desk service on a Unix socket, or (in tests) the ASGI app
in the same process: only the httpx transport differs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from linkdesk import __version__
from linkdesk.client.errors import DeskError, DeskUnavailable, error_for
from linkdesk.domain.agents import Agent, AgentCreate, AgentPatch, AgentWithToken
from linkdesk.domain.audit import AuditAction, AuditRecord, ChainState
from linkdesk.domain.bulk import BulkAction, BulkChange, BulkRequest, UndoResult
from linkdesk.domain.cases import Case, CaseCreate, CaseEvent, CasePatch, CaseSummary, EventCreate
from linkdesk.domain.contact import (
    ContactCheck,
    ContactCheckRequest,
    ContactCreate,
    ContactEntry,
    DoNotContact,
    DoNotContactCreate,
    DoNotContactReason,
    MaskedCall,
    MaskedCallCreate,
    MaskedCallList,
)
from linkdesk.domain.desk_policy import DeskPolicy, DeskPolicyPatch
from linkdesk.domain.number_intel import BindingIntel, BindingIntelList
from linkdesk.domain.paging import Page
from linkdesk.domain.permissions import Me
from linkdesk.domain.playbook import PlaybookState
from linkdesk.domain.privacy_requests import (
    BorrowerCorrection,
    BorrowerDetail,
    Erasure,
    ErasureRequest,
    LegalHold,
    LegalHoldCreate,
)
from linkdesk.domain.problems import PROBLEM_MEDIA_TYPE, Problem
from linkdesk.domain.rebind import FactorCreate, FactorKind, OutboxMessage, Rebind
from linkdesk.domain.reveal import Revealed, RevealField, RevealReason
from linkdesk.domain.views import CaseCount, CaseQuery, View

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
CHECK_TIMEOUT = httpx.Timeout(30.0, connect=3.0)
"""A re-check waits on the provider (the desk bounds each number's check, 8 s by default)."""
RETRY_DELAYS = (0.2, 0.6)
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

M = TypeVar("M", bound=BaseModel)


class DeskClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    ) -> None:
        headers = {"User-Agent": f"linkdesk/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url + API_PREFIX,
            headers=headers,
            transport=transport,
            timeout=timeout,
        )

    async def __aenter__(self) -> DeskClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the desk ---------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return (await self._request("GET", "/health")).json()

    async def me(self) -> Me:
        return await self._get_model("/me", Me)

    async def sign_in(self, client: str = "api") -> Me:
        """Record a sign-in (``login`` in the audit chain); answers who you are."""
        response = await self._request("POST", "/sessions", json={"client": client[:100]}, idempotent=False)
        return self._parse(Me, response.json())

    async def agents(self, *, include_disabled: bool = False) -> list[Agent]:
        params = {"include_disabled": "true"} if include_disabled else None
        response = await self._request("GET", "/agents", params=params)
        return [Agent.model_validate(item) for item in response.json()["items"]]

    async def add_agent(self, data: AgentCreate) -> AgentWithToken:
        response = await self._request("POST", "/agents", json=data.model_dump(mode="json", exclude_none=True))
        return self._parse(AgentWithToken, response.json())

    async def change_agent(self, name: str, patch: AgentPatch) -> Agent:
        response = await self._request(
            "PATCH", f"/agents/{name}", json=patch.model_dump(mode="json", exclude_unset=True)
        )
        return self._parse(Agent, response.json())

    async def new_token(self, name: str) -> AgentWithToken:
        response = await self._request("POST", f"/agents/{name}/token")
        return self._parse(AgentWithToken, response.json())

    async def desk_policy(self) -> DeskPolicy:
        return await self._get_model("/desk/settings", DeskPolicy)

    async def change_desk_policy(self, patch: DeskPolicyPatch) -> DeskPolicy:
        response = await self._request(
            "PATCH", "/desk/settings", json=patch.model_dump(mode="json", exclude_unset=True)
        )
        return self._parse(DeskPolicy, response.json())

    # -- privacy ----------------------------------------------------------------------

    async def reveal(
        self,
        ref: str,
        field: RevealField,
        *,
        reason: RevealReason,
        note: str,
        binding: str | None = None,
    ) -> Revealed:
        """The full value, once (never retried: each reveal is recorded)."""
        body = {"field": str(field), "reason": str(reason), "note": note}
        if binding:
            body["binding"] = binding
        response = await self._request("POST", f"/cases/{ref}/reveal", json=body, idempotent=False)
        return self._parse(Revealed, response.json())

    async def audit(
        self,
        *,
        actor: str | None = None,
        action: AuditAction | None = None,
        case: str | None = None,
        since: str | None = None,
        until: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[AuditRecord]:
        """Audit records, newest first. ``since``/``until`` are ISO 8601 instants."""
        params: dict[str, str | int] = {"limit": limit}
        for name, value in (("actor", actor), ("action", action), ("case", case),
                            ("since", since), ("until", until), ("cursor", cursor)):
            if value:
                params[name] = str(value)
        response = await self._request("GET", "/audit", params=params)
        return self._parse(Page[AuditRecord], response.json())

    async def verify_audit(self) -> ChainState:
        # Safe to repeat, but a full walk each time: a timed-out walk is not sent again.
        response = await self._request("POST", "/audit/verify", idempotent=False,
                                        timeout=httpx.Timeout(120.0, connect=3.0))
        return self._parse(ChainState, response.json())

    async def views(self) -> list[View]:
        response = await self._request("GET", "/views")
        return [View.model_validate(item) for item in response.json()["items"]]

    # -- cases ------------------------------------------------------------------------

    async def list_cases(
        self, query: CaseQuery | None = None, *, cursor: str | None = None, limit: int = 50
    ) -> Page[CaseSummary]:
        params: dict[str, str | int] = dict((query or CaseQuery()).params())
        params["limit"] = limit
        if cursor:
            params["cursor"] = cursor
        response = await self._request("GET", "/cases", params=params)
        return self._parse(Page[CaseSummary], response.json())

    async def count_cases(self, query: CaseQuery | None = None) -> CaseCount:
        """How many cases a query's ``state`` and ``filter`` match, up to the desk's cap."""
        query = query or CaseQuery()
        params = {"state": str(query.state)} | ({"filter": query.filter} if query.filter else {})
        response = await self._request("GET", "/cases/count", params=params)
        return self._parse(CaseCount, response.json())

    async def get_case(self, ref: str) -> Case:
        return await self._get_model(f"/cases/{ref}", Case)

    async def create_case(self, data: CaseCreate, *, idempotency_key: str | None = None) -> Case:
        key = idempotency_key or str(uuid.uuid4())
        response = await self._request(
            "POST",
            "/cases",
            json=data.model_dump(mode="json", exclude_defaults=True),
            headers={"Idempotency-Key": key},
            idempotent=True,
        )
        return self._parse(Case, response.json())

    async def update_case(self, ref: str, patch: CasePatch, *, version: int) -> Case:
        response = await self._request(
            "PATCH",
            f"/cases/{ref}",
            json=patch.model_dump(mode="json", exclude_unset=True),
            headers={"If-Match": f'"{version}"'},
        )
        return self._parse(Case, response.json())

    async def list_events(
        self, ref: str, *, cursor: str | None = None, limit: int = 100
    ) -> Page[CaseEvent]:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = await self._request("GET", f"/cases/{ref}/events", params=params)
        return self._parse(Page[CaseEvent], response.json())

    async def add_event(
        self, ref: str, event: EventCreate, *, idempotency_key: str | None = None
    ) -> CaseEvent:
        response = await self._request(
            "POST",
            f"/cases/{ref}/events",
            json=event.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
            idempotent=True,
        )
        return self._parse(CaseEvent, response.json())

    # -- phone intel and contact ------------------------------------------------------

    async def case_intel(self, ref: str) -> list[BindingIntel]:
        """What the desk last learnt of the case's numbers (no provider is asked)."""
        response = await self._request("GET", f"/cases/{ref}/intel")
        return self._parse(BindingIntelList, response.json()).items

    async def check_intel(self, ref: str) -> list[BindingIntel]:
        """Check the case's numbers now and re-score them. A provider that is down sets
        ``unavailable`` on the numbers (never an error). Not retried: checks may cost."""
        response = await self._request("POST", f"/cases/{ref}/intel", idempotent=False, timeout=CHECK_TIMEOUT)
        return self._parse(BindingIntelList, response.json()).items

    async def do_not_contact(
        self, *, reason: DoNotContactReason | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[DoNotContact]:
        params: dict[str, str | int] = {"limit": limit}
        if reason:
            params["reason"] = str(reason)
        if cursor:
            params["cursor"] = cursor
        response = await self._request("GET", "/do-not-contact", params=params)
        return self._parse(Page[DoNotContact], response.json())

    async def add_do_not_contact(
        self, data: DoNotContactCreate, *, idempotency_key: str | None = None
    ) -> DoNotContact:
        response = await self._request(
            "POST", "/do-not-contact", json=data.model_dump(mode="json", exclude_none=True),
            headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())}, idempotent=True,
        )
        return self._parse(DoNotContact, response.json())

    async def remove_do_not_contact(self, entry_id: int) -> None:
        await self._request("DELETE", f"/do-not-contact/{entry_id}")

    async def contact_check(self, ref: str, *, binding: str | None = None) -> ContactCheck:
        """May the case's number (or ``binding``'s) be contacted? ``rule`` says why not."""
        body = {"binding": binding} if binding else {}
        response = await self._request("POST", f"/cases/{ref}/contact-check", json=body, idempotent=True)
        return self._parse(ContactCheck, response.json())

    # -- bulk changes (issue 5) ------------------------------------------------------

    async def bulk_change(
        self, refs: list[str], action: BulkAction, value: str | None = None,
        *, idempotency_key: str | None = None,
    ) -> BulkChange:
        """One action on many cases; each case's outcome is in ``results``."""
        body = BulkRequest(refs=refs, action=action, value=value)
        response = await self._request(
            "POST", "/cases/bulk", json=body.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())}, idempotent=True,
        )
        return self._parse(BulkChange, response.json())

    async def undo_bulk_change(self, bulk_id: int) -> UndoResult:
        """Undo the caller's last bulk change (not retried: a repeat is refused)."""
        response = await self._request("POST", f"/bulk-changes/{bulk_id}/undo", idempotent=False)
        return self._parse(UndoResult, response.json())

    # -- recycled-number playbook (issue 5) ---------------------------------------------

    async def playbook(self, ref: str, *, language: str = "en") -> PlaybookState:
        """The playbook's steps and what runs next (with the reply's text when it is next)."""
        response = await self._request("GET", f"/cases/{ref}/playbook", params={"language": language})
        return self._parse(PlaybookState, response.json())

    async def playbook_next(self, ref: str, *, language: str = "en", reply: str | None = None) -> PlaybookState:
        """Run the playbook's next step (exactly one) and answer the new state. Safe to
        repeat: the desk runs a step once, so a lost answer is retried."""
        body: dict[str, str] = {"language": language}
        if reply is not None:
            body["reply"] = reply
        response = await self._request(
            "POST", f"/cases/{ref}/playbook/next", json=body, idempotent=True, timeout=CHECK_TIMEOUT
        )
        return self._parse(PlaybookState, response.json())

    # -- rebinds and the SMS outbox (issue 5) ------------------------------------------

    async def start_rebind(self, ref: str, phone: str, *, idempotency_key: str | None = None) -> Rebind:
        """Start changing the case's borrower's number to ``phone`` (never echoed back)."""
        response = await self._request(
            "POST", f"/cases/{ref}/rebinds", json={"phone": phone},
            headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())}, idempotent=True,
        )
        return self._parse(Rebind, response.json())

    async def get_rebind(self, rebind_id: int) -> Rebind:
        return await self._get_model(f"/rebinds/{rebind_id}", Rebind)

    async def send_rebind_code(self, rebind_id: int, factor: FactorKind | str) -> Rebind:
        """Send a one-time code for ``otp_new`` or ``otp_old``. Not retried: a repeat within
        a minute is refused (``RateLimited``)."""
        response = await self._request(
            "POST", f"/rebinds/{rebind_id}/codes", json={"factor": str(factor)}, idempotent=False
        )
        return self._parse(Rebind, response.json())

    async def record_rebind_factor(self, rebind_id: int, factor: FactorCreate) -> Rebind:
        """Record one factor; not retried (a code attempt counts once)."""
        response = await self._request(
            "POST", f"/rebinds/{rebind_id}/factors", json=factor.model_dump(mode="json", exclude_none=True),
            idempotent=False, timeout=CHECK_TIMEOUT,
        )
        return self._parse(Rebind, response.json())

    async def complete_rebind(self, rebind_id: int) -> Rebind:
        response = await self._request("POST", f"/rebinds/{rebind_id}/complete", idempotent=False)
        return self._parse(Rebind, response.json())

    async def approve_rebind(self, rebind_id: int) -> Rebind:
        response = await self._request("POST", f"/rebinds/{rebind_id}/approve", idempotent=False)
        return self._parse(Rebind, response.json())

    async def cancel_rebind(self, rebind_id: int, reason: str = "") -> Rebind:
        response = await self._request(
            "POST", f"/rebinds/{rebind_id}/cancel", json={"reason": reason}, idempotent=False
        )
        return self._parse(Rebind, response.json())

    async def sms_outbox(
        self, *, case: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[OutboxMessage]:
        """The sandbox SMS provider's outbox, newest first (recipients masked)."""
        params: dict[str, str | int] = {"limit": limit}
        if case:
            params["case"] = case
        if cursor:
            params["cursor"] = cursor
        response = await self._request("GET", "/sms-outbox", params=params)
        return self._parse(Page[OutboxMessage], response.json())

    # -- privacy requests (borrowers) -------------------------------------------------

    async def get_borrower(self, ref: str) -> BorrowerDetail:
        return await self._get_model(f"/borrowers/{ref}", BorrowerDetail)

    async def correct_borrower(self, ref: str, correction: BorrowerCorrection, *, version: int) -> BorrowerDetail:
        response = await self._request(
            "PATCH", f"/borrowers/{ref}", json=correction.model_dump(mode="json", exclude_none=True),
            headers={"If-Match": f'"{version}"'},
        )
        return self._parse(BorrowerDetail, response.json())

    async def export_borrower(self, ref: str) -> dict[str, Any]:
        """Everything the desk holds about the borrower, decrypted (recorded as ``export``)."""
        response = await self._request("GET", f"/borrowers/{ref}/export")
        return dict(response.json())

    async def erase_borrower(self, ref: str, request: ErasureRequest) -> Erasure:
        response = await self._request(
            "POST", f"/borrowers/{ref}/erase", json=request.model_dump(mode="json"), idempotent=False
        )
        return self._parse(Erasure, response.json())

    async def legal_holds(self, ref: str) -> list[LegalHold]:
        response = await self._request("GET", f"/borrowers/{ref}/holds")
        return [self._parse(LegalHold, item) for item in response.json()]

    async def place_legal_hold(
        self, ref: str, hold: LegalHoldCreate, *, idempotency_key: str | None = None
    ) -> LegalHold:
        response = await self._request(
            "POST", f"/borrowers/{ref}/holds", json=hold.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
        )
        return self._parse(LegalHold, response.json())

    async def lift_legal_hold(self, ref: str, hold_id: int) -> None:
        await self._request("DELETE", f"/borrowers/{ref}/holds/{hold_id}")

    # -- contact log and masked calls (issue 5) ----------------------------------------

    async def check_contact(self, ref: str, request: ContactCheckRequest) -> ContactCheck:
        """The full compliance check for a contact (channel, party) about to be made."""
        response = await self._request(
            "POST", f"/cases/{ref}/contact-check", json=request.model_dump(mode="json", exclude_none=True),
            idempotent=True,
        )
        return self._parse(ContactCheck, response.json())

    async def log_contact(
        self, ref: str, data: ContactCreate, *, idempotency_key: str | None = None
    ) -> ContactEntry:
        """Log a contact; :class:`~linkdesk.client.errors.ContactRefused` names the rule."""
        response = await self._request(
            "POST", f"/cases/{ref}/contacts", json=data.model_dump(mode="json", exclude_none=True),
            headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())}, idempotent=True,
        )
        return self._parse(ContactEntry, response.json())

    async def case_contacts(self, ref: str, *, cursor: str | None = None, limit: int = 50) -> Page[ContactEntry]:
        params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await self._request("GET", f"/cases/{ref}/contacts", params=params)
        return self._parse(Page[ContactEntry], response.json())

    async def borrower_contacts(
        self, borrower: str, *, cursor: str | None = None, limit: int = 50
    ) -> Page[ContactEntry]:
        params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await self._request("GET", f"/borrowers/{borrower}/contacts", params=params)
        return self._parse(Page[ContactEntry], response.json())

    async def request_masked_call(self, ref: str, data: MaskedCallCreate) -> MaskedCall:
        """A privacy number X to reach the borrower from ``agent_line``. Not retried: a
        repeat would bind a second number."""
        response = await self._request(
            "POST", f"/cases/{ref}/masked-calls", json=data.model_dump(mode="json", exclude_none=True),
            idempotent=False, timeout=CHECK_TIMEOUT,
        )
        return self._parse(MaskedCall, response.json())

    async def masked_calls(self, *, case: str | None = None) -> list[MaskedCall]:
        response = await self._request("GET", "/masked-calls", params={"case": case} if case else None)
        return self._parse(MaskedCallList, response.json()).items

    async def end_masked_call(self, call_id: int) -> None:
        await self._request("DELETE", f"/masked-calls/{call_id}", timeout=CHECK_TIMEOUT)

    # -- plumbing ---------------------------------------------------------------------

    async def _get_model(self, path: str, model: type[M]) -> M:
        return self._parse(model, (await self._request("GET", path)).json())

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send one request; retry transport failures only when repeating is harmless.

        GET and friends are safe to repeat; a POST is only when it carries an
        ``Idempotency-Key`` (the desk answers a repeat with the first result).
        """
        retry = method in _IDEMPOTENT_METHODS if idempotent is None else idempotent
        delays = RETRY_DELAYS if retry else ()
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    method, path, params=params, json=json, headers=headers,
                    timeout=timeout or httpx.USE_CLIENT_DEFAULT,
                )
                break
            except httpx.TransportError as exc:
                if attempt >= len(delays):
                    raise DeskUnavailable(f"desk unreachable at {self.base_url}: {exc}") from exc
                await asyncio.sleep(delays[attempt])
                attempt += 1
        if response.is_error:
            raise error_for(_problem_of(response))
        return response

    @staticmethod
    def _parse(model: Any, data: Any) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise DeskError(f"the desk sent an answer this client does not understand: {exc}") from None


def _problem_of(response: httpx.Response) -> Problem:
    content_type = response.headers.get("content-type", "")
    if content_type.startswith(PROBLEM_MEDIA_TYPE) or content_type.startswith("application/json"):
        try:
            data = response.json()
            if isinstance(data, dict) and "title" in data:
                data.setdefault("status", response.status_code)
                return Problem.model_validate(data)
        except (ValueError, ValidationError):
            pass
    return Problem(title=response.reason_phrase or "Error", status=response.status_code)
