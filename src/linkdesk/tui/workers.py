"""Workers that talk to the desk: failures become one notification, never a traceback."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from textual import work
from textual.dom import DOMNode

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def desk_work(*, group: str, exclusive: bool = True) -> Callable[[F], F]:
    """``@work`` for a coroutine method that calls the desk.

    Any exception other than cancellation is handed to ``app.report_error`` (a
    notification or the "unreachable" status) and the worker ends quietly.
    """

    def decorator(method: F) -> F:
        @functools.wraps(method)
        async def guarded(self: DOMNode, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - shown to the agent, never raised
                report = getattr(self.app, "report_error", None)
                if report is not None:
                    report(exc)
                return None

        return work(guarded, group=group, exclusive=exclusive, exit_on_error=False)  # type: ignore[return-value]

    return decorator
