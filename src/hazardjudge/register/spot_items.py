"""The items of a 抽查检查 (附件2, second section), read from ``spot_check_items.yaml``.

The list is data: Python knows no item by name. This module loads and checks the YAML once,
and turns what a user typed (``1=是``, ``outsourcing_disorder=unknown``) into item keys and
three-valued :class:`Answer`\\ s.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hazardjudge.register.errors import InvalidInput
from hazardjudge.register.models import Answer

_FILE = "spot_check_items.yaml"

#: what a user may write for each answer (the CLI, a YAML/JSON answers file)
ANSWER_WORDS: dict[str, Answer] = {
    **dict.fromkeys(["是", "有", "存在", "yes", "y", "true"], Answer.yes),
    **dict.fromkeys(["否", "无", "不存在", "no", "n", "false"], Answer.no),
    **dict.fromkeys(["未查明", "不确定", "未知", "未查", "unknown", "?", "？"], Answer.unknown),
}


class SpotItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    number: int = Field(ge=1)
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    label: str = Field(min_length=1)
    note: str | None = None


class SpotItems(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    form: str
    section: str
    unit: str
    total: str = Field(description="row 1 of the section: the number of enterprises checked")
    items: tuple[SpotItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> "SpotItems":
        numbers = [i.number for i in self.items]
        keys = [i.key for i in self.items]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"items must be numbered 1…n in order, got {numbers}")
        if len(set(keys)) != len(keys):
            raise ValueError("item keys must be distinct")
        return self

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.items]

    @property
    def rows(self) -> list[str]:
        """The section's rows in the form's order: the total, then each item."""
        return [self.total, *(i.label for i in self.items)]

    def item(self, ref: str | int) -> SpotItem:
        """An item by its number (``5``, ``"5"``) or its key; InvalidInput otherwise."""
        text = str(ref).strip()
        for i in self.items:
            if text == i.key or text == str(i.number):
                return i
        raise InvalidInput.one(
            "register.spot_item", f"没有第“{text}”项抽查内容",
            f"可用编号 1–{len(self.items)} 或代码（{'、'.join(self.keys)}）；hazardjudge register spotcheck items 列出全部",
        )


@lru_cache(maxsize=1)
def load() -> SpotItems:
    text = resources.files("hazardjudge.register").joinpath(_FILE).read_text(encoding="utf-8")
    return SpotItems.model_validate(yaml.safe_load(text))


def answer(value: object) -> Answer:
    """A user's answer as :class:`Answer`; ``True``/``False``/``None`` from YAML/JSON are 是/否/未查明."""
    if isinstance(value, Answer):
        return value
    if value is True:
        return Answer.yes
    if value is False:
        return Answer.no
    if value is None:
        return Answer.unknown
    found = ANSWER_WORDS.get(str(value).strip().lower())
    if found is None:
        raise InvalidInput.one("register.spot_answer", f"抽查结果“{value}”无法识别", "请填 是、否 或 未查明")
    return found


def parse_pairs(pairs: list[str]) -> dict[str, Answer]:
    """``["1=是", "outsourcing_disorder=否"]`` → ``{key: Answer}``; an item given twice is refused."""
    items, out = load(), {}
    for pair in pairs:
        ref, sep, value = pair.replace("＝", "=").partition("=")
        if not sep:
            raise InvalidInput.one("register.spot_pair", f"“{pair}”须写成 编号=是/否/未查明（如 5=否）")
        key = items.item(ref).key
        if key in out:
            raise InvalidInput.one("register.spot_twice", f"第 {items.item(key).number} 项给了两次")
        out[key] = answer(value)
    return out


def pairs_of_mapping(data: object) -> list[str]:
    """An answers file's content (a mapping of item number or key to answer) as ``N=answer`` pairs for :func:`parse_pairs`."""
    if not isinstance(data, dict):
        raise InvalidInput.one("register.spot_file", "抽查结果文件须是“编号或代码: 是/否/未查明”的映射")
    # YAML reads 是/否 as text but yes/no/true/false as booleans, and an empty value as null.
    return [f"{k}={'未查明' if v is None else ('是' if v is True else '否' if v is False else v)}" for k, v in data.items()]
