"""Route strings and their parsing."""

from __future__ import annotations

import pytest

from linkdesk.tui.router import Route, Router, UnknownRoute


@pytest.fixture
def router() -> Router:
    router = Router(app=None)  # type: ignore[arg-type]
    for name, param in (("inbox", None), ("case", "ref"), ("settings", None)):
        router.register(name, lambda route: None, param=param)  # type: ignore[arg-type,return-value]
    return router


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("inbox", Route("inbox")),
        (":settings", Route("settings")),
        ("case/LD-000123", Route("case", (("ref", "LD-000123"),))),
        (":case LD-000123", Route("case", (("ref", "LD-000123"),))),
        ("case 42", Route("case", (("ref", "LD-000042"),))),
        ("LD-000005", Route("case", (("ref", "LD-000005"),))),
        ("  ld5 ", Route("case", (("ref", "LD-000005"),))),
    ],
)
def test_parse(router: Router, text: str, route: Route) -> None:
    assert router.parse(text) == route


def test_parse_with_params(router: Router) -> None:
    assert router.parse("case", ref="7").path == "case/LD-000007"


@pytest.mark.parametrize("text", ["", "nowhere", "case", "case nope", "inbox extra", "LD-000001 x"])
def test_unknown(router: Router, text: str) -> None:
    with pytest.raises(UnknownRoute):
        router.parse(text)
