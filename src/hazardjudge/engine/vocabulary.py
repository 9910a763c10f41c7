"""The answer vocabulary (rules/answers.yaml) merged and made ready for matching.

Phrases and answers are compared in one normal form (:func:`normalise`). The
merge refuses what would make reading ambiguous: one phrase in two lists, or a
yes/no phrase that contains an unknown phrase (it could never be read).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable

from hazardjudge.engine.normalising import fold
from hazardjudge.errors import Problem

#: lists whose phrases are whole answers; each phrase may sit in one of them only
ANSWER_LISTS = ("yes_answers", "no_answers", "found_answers", "not_found_answers", "unknown_answers", "unknown_whole_answers")
#: lists of words used inside answers; a phrase may not be in both prefix lists
PREFIX_LISTS = ("affirming_prefixes", "negating_prefixes")
WORD_LISTS = ("counting_words", "approximation_words")
ALL_LISTS = ANSWER_LISTS + PREFIX_LISTS + WORD_LISTS

# The question mark is doubt, not decoration: it is an unknown phrase, never stripped.
_KEEP = {"?"}
_EXTRA_STRIP = set("~`^|")


def _strippable(ch: str) -> bool:
    if ch in _KEEP:
        return False
    return ch in _EXTRA_STRIP or unicodedata.category(ch)[0] in "PZC"


def normalise(text: str) -> str:
    """Folded, lower-case, without whitespace or surrounding punctuation: “ 是的。” → 是的."""
    # A checklist repeats a handful of short answers (是/否/不清楚) millions of times in a batch;
    # only short ones are cached so a bounded cache cannot hold megabytes of free text.
    return _normalise_short(text) if len(text) <= _CACHED_LENGTH else _normalise(text)


_CACHED_LENGTH = 64
_CACHE_SIZE = 8192


def _normalise(text: str) -> str:
    t = "".join(fold(text).lower().split())
    start, end = 0, len(t)
    while start < end and _strippable(t[start]):
        start += 1
    while end > start and _strippable(t[end - 1]):
        end -= 1
    return t[start:end]


_normalise_short = functools.lru_cache(maxsize=_CACHE_SIZE)(_normalise)


def _is_ascii_word(phrase: str) -> bool:
    return phrase.isascii() and any(c.isalnum() for c in phrase)


@dataclass
class Vocabulary:
    """Normalised phrase sets; ``where`` keeps each phrase's first position for error messages."""

    lists: dict[str, list[str]] = field(default_factory=lambda: {name: [] for name in ALL_LISTS})
    where: dict[tuple[str, str], Any] = field(default_factory=dict)
    _unknown_pattern: re.Pattern[str] | None = field(default=None, repr=False)
    # Answers already read; like the pattern, emptied whenever a phrase is added.
    _unknown_cache: dict[tuple[str, bool], bool] = field(default_factory=dict, repr=False, compare=False)

    def words(self, name: str) -> list[str]:
        return self.lists[name]

    def add(self, name: str, raw: str, position: Any, problems: list[Problem]) -> None:
        phrase = normalise(raw) if name in ANSWER_LISTS else "".join(fold(raw).lower().split())
        if not phrase:
            problems.append(Problem("answers.empty_phrase", f"{name} 中的短语 {raw!r} 去掉空白和标点后为空", position))
            return
        group = ANSWER_LISTS if name in ANSWER_LISTS else PREFIX_LISTS if name in PREFIX_LISTS else (name,)
        for other in group:
            if other != name and (other, phrase) in self.where:
                problems.append(
                    Problem(
                        "answers.conflict",
                        f"短语“{raw}”同时列在 {other}（{self.where[(other, phrase)]}）和 {name} 中，读法会有歧义",
                        position,
                    )
                )
                return
        if (name, phrase) not in self.where:
            self.where[(name, phrase)] = position
            self.lists[name].append(phrase)
            self._unknown_pattern = None
            self._unknown_cache.clear()

    def check(self, problems: list[Problem]) -> None:
        """A yes/no phrase that contains an unknown phrase would always read as unknown."""
        for name in ANSWER_LISTS[:4]:
            for phrase in self.lists[name]:
                hit = self.unknown_in(phrase)
                if hit is not None:
                    problems.append(
                        Problem(
                            "answers.shadowed",
                            f"{name} 中的“{phrase}”含有未知类短语“{hit}”（{self.where[('unknown_answers', hit)]}），永远只会读作未回答",
                            self.where[(name, phrase)],
                        )
                    )

    # ------------------------------------------------------------------ matching

    def _pattern(self) -> re.Pattern[str]:
        if self._unknown_pattern is None:
            parts = []
            # Longest first, so the phrase reported is the most specific one.
            for phrase in sorted(self.lists["unknown_answers"], key=len, reverse=True):
                body = re.escape(phrase)
                # 'na' must not be found inside 'nana': ASCII words match as words.
                parts.append(rf"(?<![a-z0-9]){body}(?![a-z0-9])" if _is_ascii_word(phrase) else body)
            self._unknown_pattern = re.compile("|".join(parts) if parts else r"(?!)")
        return self._unknown_pattern

    def unknown_in(self, text: str) -> str | None:
        """The unknown phrase ``text`` (already normalised) contains, if any."""
        m = self._pattern().search(text)
        return m.group(0) if m else None

    def is_unknown(self, raw: str, anywhere: bool = True) -> bool:
        """Whether an answer says it is unknown. ``anywhere=False`` for free text: whole answer only."""
        if len(raw) > _CACHED_LENGTH:
            return self._is_unknown(raw, anywhere)
        key = (raw, anywhere)
        hit = self._unknown_cache.get(key)
        if hit is None:
            if len(self._unknown_cache) >= _CACHE_SIZE:  # bounded: a long batch must not grow it
                self._unknown_cache.clear()
            hit = self._unknown_cache[key] = self._is_unknown(raw, anywhere)
        return hit

    def _is_unknown(self, raw: str, anywhere: bool) -> bool:
        text = normalise(raw)
        if not text:
            return True
        if text in self.lists["unknown_answers"] or text in self.lists["unknown_whole_answers"]:
            return True
        return anywhere and self.unknown_in(text) is not None

    def examples(self, name: str, n: int = 5) -> str:
        shown = [p for p in self.lists[name] if not p.isascii()][:n]
        return "、".join(shown)


def build(sources: Iterable[tuple[Any, Any]], problems: list[Problem]) -> Vocabulary:
    """Merge parsed vocabulary files, in order; ``sources`` yields (AnswerVocabulary, Located)."""
    vocab = Vocabulary()
    for model, located in sources:
        for name in ALL_LISTS:
            for i, raw in enumerate(getattr(model, name)):
                vocab.add(name, raw, located.pos(name, i), problems)
    vocab.check(problems)
    return vocab
