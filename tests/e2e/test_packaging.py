"""The wheel carries what the installed console reads: stylesheets, themes, catalogs,
migrations (the README's first command installs it without -e)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_stylesheets_themes_catalogs_and_migrations(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("linkdesk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for sheet in (ROOT / "screens").glob("*.tcss"):
        assert f"linkdesk/_screens/{sheet.name}" in names
    for theme in (ROOT / "themes").glob("*.toml"):
        assert f"linkdesk/_themes/{theme.name}" in names
    assert "linkdesk/_themes/linkdesk-dark.toml" in names and "linkdesk/_screens/inbox.tcss" in names
    assert "linkdesk/locales/zh_CN.toml" in names
    assert any(name.startswith("linkdesk/server/migrations/versions/") for name in names)
    assert "linkdesk/server/migrations/script.py.mako" in names
