"""User settings and where LinkDesk keeps its files.

Settings are read from (highest first) the caller, ``LINKDESK_*`` environment
variables (``LINKDESK_DESK__URL``, …) and ``settings.toml`` in the user config
directory, and saved back there as TOML. Desks (SQLite files, keys, the local desk
service's socket) live under the data directory, one folder per desk.
"""

from __future__ import annotations

import enum
import os
import stat
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from linkdesk.i18n import LANGUAGES, language_from_locale

APP_NAME = "linkdesk"
DEFAULT_THEME = "linkdesk-dark"


def config_dir() -> Path:
    override = os.environ.get("LINKDESK_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "settings.toml"


def data_dir(override: Path | str | None = None) -> Path:
    """``--data-dir`` wins, then ``LINKDESK_DATA_DIR``, then the platform's data directory."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("LINKDESK_DATA_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_NAME))


def desk_dir(name: str, override: Path | str | None = None) -> Path:
    """The folder of one embedded desk (``default`` or ``demo``), made private (0700)."""
    path = data_dir(override) / name
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(stat.S_IRWXU)
    return path


class DeskMode(enum.StrEnum):
    EMBEDDED = "embedded"
    SERVER = "server"


class DeskSettings(BaseModel):
    mode: DeskMode = DeskMode.EMBEDDED
    url: str = ""
    token: str = ""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("the desk URL must start with http:// or https://")
        return value.rstrip("/")


class AgentSettings(BaseModel):
    name: str = Field(default="", max_length=60)


class UISettings(BaseModel):
    theme: str = DEFAULT_THEME
    language: str = Field(default_factory=language_from_locale)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}; choose one of {', '.join(LANGUAGES)}")
        return value


class SavedView(BaseModel):
    """A filter saved under a name in the inbox (``[[views]]`` in settings.toml)."""

    name: str = Field(min_length=1, max_length=40)
    filter: str = Field(max_length=500)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LINKDESK_", env_nested_delimiter="__", extra="ignore"
    )

    desk: DeskSettings = Field(default_factory=DeskSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    ui: UISettings = Field(default_factory=UISettings)
    keys: dict[str, str] = Field(
        default_factory=dict,
        description="Binding id → keys, e.g. inbox.filter = \"f\" (docs: README, Keys)",
    )
    views: list[SavedView] = Field(
        default_factory=list,
        description="Saved inbox views, in the order listed (docs/filters.md)",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )

    def save(self, path: Path | None = None) -> Path:
        """Write the settings as TOML, readable by the user only (it may hold a token)."""
        target = path or config_file()
        target.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = self.model_dump(mode="json", exclude={"views"})
        temporary = target.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            tomli_w.dump(data, file)
            # saved views as [[views]] tables (tomli_w would inline short ones), last
            for view in self.views:
                file.write(b"\n[[views]]\n" + tomli_w.dumps(view.model_dump(mode="json")).encode("utf-8"))
        os.replace(temporary, target)
        return target
