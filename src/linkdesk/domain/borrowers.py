"""Borrowers and the masking of their personal data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from linkdesk.domain.phones import PhoneBinding


class Borrower(BaseModel):
    """A borrower as the console sees one: masked name and ID number, bindings."""

    model_config = ConfigDict(frozen=True)

    ref: str
    name: str
    id_number: str | None = None
    bindings: list[PhoneBinding] = Field(default_factory=list)


COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 "
    "端木 独孤 南宫 西门 百里 呼延 澹台 钟离 闻人 赫连 申屠 太史 万俟 濮阳 单于".split()
)


def mask_name(name: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**``, ``Li Lei`` → ``L*****``.

    Chinese compound surnames (欧阳, 司马, …) keep both characters; everything else
    keeps the first character only.
    """
    name = name.strip()
    if not name:
        return ""
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * (len(name) - keep)


def mask_id_number(id_number: str) -> str:
    """First three and last four characters: ``110***********1234``."""
    value = id_number.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


