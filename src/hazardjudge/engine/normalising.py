"""Numbers and dates as inspectors write them, read strictly.

Full-width forms are folded by NFKC (``１．８米`` is ``1.8米``); Chinese numerals
are read by a small strict grammar (``三百五十``, ``一千二``, ``二点五``) that refuses
what it cannot read exactly (``两三处``, ``十百``) instead of guessing. Estimates
(``约2米``) and ranges (``2-3米``) are refused: a threshold cannot be compared
with either. Every refusal is a ValueError with a Chinese reason.

This module knows no fact and no vocabulary file: callers pass the words.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from decimal import Decimal
from typing import Iterable

#: more digits than any measurement has: refused rather than turned into a float that loses them
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 10
MAX_MAGNITUDE = Decimal(10) ** MAX_INTEGER_DIGITS

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = (("亿", 10**8), ("万", 10**4))
_CN_CHARS = "".join(_CN_DIGITS) + "".join(_CN_SMALL) + "万亿"

_ARABIC = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_CHINESE = re.compile(rf"负?[{_CN_CHARS}]+(?:点[{''.join(_CN_DIGITS)}]+)?")
_NUMBERISH = rf"(?:\d+(?:[.,]\d+)*|[{_CN_CHARS}]+)"
# 2-3米, 2~3, 2至3米, 二到三: a range, whichever way it is written (NFKC has folded －～ already).
_RANGE = re.compile(rf"{_NUMBERISH}\s*[^\s\d{_CN_CHARS}]{{0,3}}\s*(?:-|~|〜|—|–|至|到|或)\s*{_NUMBERISH}")
_TRAILING = "。.!！，,；;"


def fold(text: str) -> str:
    """Full-width digits, letters and punctuation to their ordinary forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def chinese_integer(text: str) -> int:
    """三百五十 → 350, 一千二 → 1200, 一万零二 → 10002; ValueError for anything not exact."""
    total = 0
    rest = text
    above = 0  # the big unit just passed, for 一万二 (= 12000)
    for char, size in _CN_BIG:
        if char in rest:
            head, rest = rest.split(char, 1)
            if not head or char in rest:
                raise ValueError(f"无法识别的中文数字“{text}”")
            total += _chinese_section(head, text) * size
            above = size
    if above and len(rest) == 1 and rest in _CN_DIGITS and _CN_DIGITS[rest]:
        return total + _CN_DIGITS[rest] * above // 10
    return total + _chinese_section(rest, text)


def _chinese_section(part: str, whole: str) -> int:
    """A number below 10000: digits each followed by 千/百/十, 零 for a skipped place."""
    bad = ValueError(f"无法识别的中文数字“{whole}”")
    value, last_unit, digit, zero = 0, 10000, None, False
    for i, ch in enumerate(part):
        if ch in _CN_DIGITS:
            d = _CN_DIGITS[ch]
            if digit is not None:
                # 两三, 七八: an estimate (or digits by position, which counts never use)
                raise ValueError(f"“{whole}”像是估计（如 两三处、七八个），请填写确切数值")
            if d == 0:
                if zero and i:
                    raise bad
                zero = True
                continue
            digit = d
        elif ch in _CN_SMALL:
            unit = _CN_SMALL[ch]
            if unit >= last_unit:
                raise bad  # 十百
            if digit is None:
                if ch != "十" or (value and not zero):
                    raise bad  # 百 alone; 一百十 is not written (一百一十, 一千零十 are)
                digit = 1  # 十二
            value += digit * unit
            last_unit, digit, zero = unit, None, False
        else:
            raise bad
    if digit is not None:
        # 一千二 is 1200 (the next place down is meant); 一千零二 is 1002; 五 is 5.
        value += digit * (1 if zero or last_unit == 10000 else last_unit // 10)
    return value


def _chinese_number(text: str) -> Decimal:
    negative = text.startswith("负")
    body = text[1:] if negative else text
    integer, _, fraction = body.partition("点")
    if fraction and not integer:
        raise ValueError(f"无法识别的中文数字“{text}”")
    value = Decimal(chinese_integer(integer)) if integer else Decimal(0)
    if fraction:
        if any(ch not in _CN_DIGITS or ch == "两" for ch in fraction):
            raise ValueError(f"无法识别的中文数字“{text}”")
        value += Decimal("0." + "".join(str(_CN_DIGITS[ch]) for ch in fraction))
    return -value if negative else value


def parse_number(text: str, approximation_words: Iterable[str] = ()) -> tuple[Decimal, str]:
    """The number an answer gives and the unit written after it (``"１，２００ 米"`` → (1200, "米")).

    ``百分之五十`` gives (50, "%"). Estimates, ranges, scientific notation and
    numbers with more digits than any measurement are refused.
    """
    t = fold(text).strip().rstrip(_TRAILING).strip()
    for word in approximation_words:
        if word and word in t:
            raise ValueError(f"请填写确切的实测数值；“{word}”表示估计或范围，无法与判定标准比较")
    if _RANGE.search(t):
        raise ValueError("请只填写一个确切数值，不要写范围（如 2-3米）；有多处时填对判定最不利的一处")
    percent = t.startswith("百分之")
    if percent:
        t = t[3:].lstrip()
    m = _ARABIC.match(t)
    if m:
        digits = m.group(0)
        rest = t[m.end():]
        if re.match(r"[,.]?\d", rest):
            raise ValueError("数字的千分位或小数点写法有误（如 1,200 或 1.5）")
        if re.match(r"[eE][+-]?\d", rest):
            raise ValueError("请直接写出数值，不要用科学计数法")
        integer, _, fraction = digits.lstrip("+-").replace(",", "").partition(".")
        if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS or len(fraction) > MAX_FRACTION_DIGITS:
            raise ValueError("数值位数过多，请核对")
        value = Decimal(digits.replace(",", ""))
        rest = rest.lstrip()
        if rest[:1] in ("万", "亿") and not percent:
            value *= 10**4 if rest[0] == "万" else 10**8
            rest = rest[1:]
    else:
        m = _CHINESE.match(t)
        if not m:
            raise ValueError("应为数字")
        value = _chinese_number(m.group(0))
        rest = t[m.end():]
    if abs(value) >= MAX_MAGNITUDE:
        raise ValueError("数值过大，请核对")
    unit = rest.strip()
    if percent:
        if unit:
            raise ValueError(f"“百分之…”后面不应再有单位“{unit}”")
        unit = "%"
    return value, unit


# --------------------------------------------------------------------------- dates

_DATE_FORMS = (
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})([./-])(\d{1,2})\2(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_CN_YEAR = re.compile(r"^([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})[日号]?$")

DATE_HINT = "请写成 2026-11-20 或 2026年11月20日"


def parse_date_text(text: str) -> dt.date:
    """2026年11月20日, 2026年11月20号, 2026.11.20, 2026/11/20, 2026-11-20, 20261120 (any width)."""
    t = re.sub(r"\s+", "", fold(text)).rstrip(_TRAILING)
    parts: tuple[int, int, int] | None = None
    for form in _DATE_FORMS:
        m = form.match(t)
        if m:
            groups = [g for g in m.groups() if g not in (".", "/", "-")]
            parts = (int(groups[0]), int(groups[1]), int(groups[2]))
            break
    else:
        m = _CN_YEAR.match(t)
        if m:
            year = int("".join(str(_CN_DIGITS[ch]) for ch in m.group(1)))
            try:
                parts = (year, chinese_integer(m.group(2)), chinese_integer(m.group(3)))
            except ValueError:
                parts = None
    if parts is None:
        raise ValueError(f"日期“{text.strip()[:40]}”无法识别，{DATE_HINT}")
    year, month, day = parts
    if year < 1:
        raise ValueError(f"日期“{text.strip()[:40]}”不存在：没有公元 0 年")
    if not 1 <= month <= 12:
        raise ValueError(f"日期“{text.strip()[:40]}”不存在：月份应为 1 到 12")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValueError(f"日期“{text.strip()[:40]}”不存在：{year}年{month}月只有 {last} 天")
    return dt.date(year, month, day)
