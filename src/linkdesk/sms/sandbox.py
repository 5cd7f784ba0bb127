"""The embedded default: messages are not sent anywhere but written to the desk's outbox
(``sms_outbox``), where whoever plays the borrower reads them (the outbox screen,
``linkdesk outbox``, ``GET /sms-outbox``). The recipient is sealed like every number
(under the borrower's data key when the borrower is known) and kept masked beside it;
the text is stored as sent: that is the sandbox's purpose. A real provider never writes
the outbox."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from linkdesk.domain.phones import mask
from linkdesk.server.crypto import KeyRing, aad
from linkdesk.server.data_keys import seal_for
from linkdesk.server.tables import SmsOutboxRow
from linkdesk.sms.base import SmsContext, SmsReceipt

NAME = "sandbox"
TABLE = "sms_outbox"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def write_outbox(
    session: Session, keyring: KeyRing, e164: str, text: str, context: SmsContext, at: datetime
) -> int:
    """Stage one outbox row; the caller commits."""
    version = keyring.writing_version()
    row_id = session.execute(
        insert(SmsOutboxRow).values(
            phone_index=keyring.blind_index(e164, version=version), phone_masked=mask(e164), text=text,
            provider=NAME, borrower_id=context.borrower_id, case_id=context.case_id,
            rebind_id=context.rebind_id, sent_at=at, key_version=version,
        ).returning(SmsOutboxRow.id)
    ).scalar_one()
    sealed = seal_for(session, keyring, context.borrower_id, e164, aad(TABLE, "phone_enc", row_id), version=version)
    session.execute(
        update(SmsOutboxRow).where(SmsOutboxRow.id == row_id).values(phone_enc=sealed)
        .execution_options(synchronize_session=False)
    )
    return int(row_id)


class SandboxSms:
    name = NAME

    def __init__(
        self, sessions: sessionmaker[Session], keyring: KeyRing, *, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self._sessions = sessions
        self._keyring = keyring
        self._clock = clock

    def __repr__(self) -> str:
        return "SandboxSms()"

    async def send(
        self, e164: str, text: str, *, context: SmsContext | None = None, params: Mapping[str, str] | None = None
    ) -> SmsReceipt:
        at = self._clock()

        def write() -> int:
            with self._sessions() as session, session.begin():
                return write_outbox(session, self._keyring, e164, text, context or SmsContext(), at)

        row_id = await anyio.to_thread.run_sync(write)
        return SmsReceipt(provider=NAME, sent_at=at, message_id=f"outbox:{row_id}")

    async def aclose(self) -> None:
        return None
