"""pydantic models for everything that crosses a boundary.

Authoring side: criteria documents, the fact vocabulary, sectors, rules with
their conditions and test cases. Result side: the verdict and its parts, whose
JSON form is published with a schema version (:data:`VERDICT_SCHEMA_VERSION`).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Any, Literal, Self, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hazardjudge.engine.normalising import parse_date_text

VERDICT_SCHEMA_VERSION = "1.0"

_new = object.__new__
_set = object.__setattr__

#: ``{fact.id}`` in a finding text is replaced by the displayed answer (plain substitution).
PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=80)]
RULE_ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_\-]+)*$"
RULE_ID_MAX = 80
RuleId = Annotated[str, Field(pattern=RULE_ID_PATTERN, max_length=RULE_ID_MAX)]


class _Strict(BaseModel):
    """Authoring models reject unknown keys: a misspelt key must not vanish."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# --------------------------------------------------------------------------- criteria


class Source(_Strict):
    id: Identifier
    title: str
    url: str | None = None
    repository: str | None = None
    path: str | None = None
    note: str | None = None


class Verification(_Strict):
    # verified: read in the published text or in two independent copies that agree;
    # single_source: one careful secondary copy of the published text (encoded, flagged);
    # unverified: not read; the clause is a gap and blocks "no major hazard".
    status: Literal["verified", "single_source", "unverified"]
    sources: list[str] = Field(default_factory=list)
    checked: dt.date | None = None
    note: str | None = None


class Replacement(_Strict):
    """An overlay item that knowingly takes the place of a lower layer's item with the same id.

    Without it, an id already defined below is an error: an office overlay can add to the
    shipped bundle but never change it silently. The reason is shown in every verdict.
    """

    reason: str = Field(min_length=4, max_length=500)


class DocumentIdentity(_Strict):
    """How the document's own facts (title, number, issuer, dates) were checked."""

    status: Literal["verified", "single_source", "unverified"]
    sources: list[str] = Field(default_factory=list)
    checked: dt.date | None = None
    # Facts no source confirmed: shown as such, never relied on silently.
    unverified: list[Literal["title", "number", "issuer", "issued", "effective", "superseded", "supersedes"]] = Field(
        default_factory=list
    )
    note: str | None = None


class Clause(_Strict):
    id: str = Field(min_length=1, max_length=40)
    title: str | None = None
    summary: str = Field(min_length=1)
    # A deciding clause is one a finding can cite: the engine must encode it
    # before the document may ever conclude "no major hazard".
    decides: bool = False
    verification: Verification
    clauses: list["Clause"] = Field(default_factory=list)


class ProvisionalReference(_Strict):
    """An earlier version still judged, as reference only, while this version's items are not encoded.

    Data, not a legal reading: it records that the earlier version's status after this one took
    effect has not been verified. Every result judged against it carries ``label`` (``{clause}``
    replaced by the cited clause ids) and can never make a document "major" or "none".
    """

    version: str = Field(min_length=1, max_length=20)
    label: str = Field(min_length=2, description="per finding; {clause} stands for the cited clauses")
    note: str = Field(min_length=2, description="why the earlier version is consulted, for the verdict and checklist")

    @field_validator("label")
    @classmethod
    def _names_clause(cls, value: str) -> str:
        if "{clause}" not in value:
            raise ValueError("label 须含 {clause}，用于写明所依据的条款")
        return value

    @field_validator("note")
    @classmethod
    def _one_bracketed_line(cls, value: str) -> str:
        # Checklists echo it as one 【说明：…】 line, which the paste reader skips.
        if any(c in value for c in "【】\n"):
            raise ValueError("note 须为一行，且不能含【】")
        return value


class ClauseInheritance(_Strict):
    """``extends:`` of a criteria version: it carries an earlier version's clauses.

    Declared, never implied: a version that only adds to the previous one (a supplement that
    repeals nothing) names that version instead of copying its clauses. The loader assembles
    the inherited clauses, sources and recorded gaps (``unread_parts``, ``not_encoded``) with
    the file's own; the inheriting version's identity (title, number, dates, identity) is its own.
    """

    version: str = Field(min_length=1, max_length=20, description="an earlier version of the same document")
    # Inherited clauses this file writes anew: each must be a top-level entry of its own
    # `clauses:` and takes the inherited clause's place (with its sub-clauses) in the tree.
    # Any other id the base already has is an error, so nothing is replaced by accident.
    overrides: list[str] = Field(default_factory=list)


class CriteriaDocument(_Strict):
    schema_: Literal["hazardjudge/criteria/1"] = Field(alias="schema")
    document: Identifier
    version: str = Field(min_length=1, max_length=20)
    extends: ClauseInheritance | None = None
    title: str
    number: str
    kind: str
    issuer: str
    issued: dt.date | None = None
    issued_note: str | None = None
    effective: dt.date
    superseded: dt.date | None = None
    supersedes: list[str] = Field(default_factory=list)
    major_label: str = Field(description="The term the document uses for a major hazard, e.g. 重大事故隐患")
    scope: str
    sources: list[Source] = Field(min_length=1)
    clauses: list[Clause] = Field(default_factory=list)
    # Parts known to exist whose text could not be read: each is a gap, so the document
    # can never conclude "none" while they are missing.
    unread_parts: list[str] = Field(default_factory=list)
    # Parts whose text is public but that no clause entry or rule encodes yet (an
    # identity-only document lists its whole body here): gaps too.
    not_encoded: list[str] = Field(default_factory=list)
    identity: DocumentIdentity | None = None
    replaces: Replacement | None = None
    # While this version's items are not encoded: the earlier version judged as reference only.
    provisional_reference: ProvisionalReference | None = None

    @model_validator(mode="after")
    def _dates_ordered(self) -> "CriteriaDocument":
        if not self.clauses and not self.unread_parts and not self.not_encoded and self.extends is None:
            # Nothing to encode would let the version conclude "none" on no clause at all.
            # (An inheriting version is checked once assembled: its base is never empty.)
            raise ValueError("没有 clauses 的文件版本必须在 unread_parts 或 not_encoded 中列出其条文部分")
        if self.superseded is not None and self.superseded <= self.effective:
            raise ValueError("superseded 必须晚于 effective")
        if self.issued is not None and self.issued > self.effective:
            raise ValueError("issued 不能晚于 effective")
        return self

    def in_force(self, on: dt.date) -> bool:
        return self.effective <= on and (self.superseded is None or on < self.superseded)

    @property
    def key(self) -> str:
        return f"{self.document}@{self.version}"


# --------------------------------------------------------------------------- facts


class FactType(str, Enum):
    boolean = "boolean"
    integer = "integer"
    number = "number"
    enum = "enum"
    set = "set"  # several values of an enumeration at once (a place in several categories)
    date = "date"
    text = "text"


class FactDef(_Strict):
    id: Identifier
    type: FactType
    question: str = Field(min_length=2)
    help: str | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    values: dict[str, str] | None = Field(default=None, description="value → 中文 label, for enum and set")
    max_length: int = 2000
    replaces: Replacement | None = None

    @model_validator(mode="after")
    def _shape(self) -> "FactDef":
        if self.type in (FactType.enum, FactType.set):
            if not self.values:
                raise ValueError(f"{self.type.value} 类型的事实必须列出 values")
        elif self.values is not None:
            raise ValueError("只有 enum 和 set 类型的事实可以有 values")
        if self.type not in (FactType.integer, FactType.number):
            if self.min is not None or self.max is not None or self.unit is not None:
                raise ValueError("min、max、unit 只适用于 integer 和 number 类型")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min 大于 max")
        return self


# --------------------------------------------------------------------------- conditions

Scalar = Union[bool, int, float, str, dt.date]


class FactRef(_Strict):
    """Another fact as the right-hand side, optionally scaled: b × times + plus."""

    fact: str
    times: float = 1.0
    plus: float = 0.0


# "answered" tests whether a question was answered at all (value true/false): it lets a
# condition read one of several equivalent records (a 符合/不符合 judgement, a rate, a count
# with its total) by whichever the inspector gave; see conditions.evaluate.
COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "answered")


class _Cond(_Strict):
    # Expansions computed once per node: the loader checks sizes, the compiler builds
    # rules, and both ask for the same trees' DNF (see conditions.true_dnf).
    _dnf: dict[bool, Any] = PrivateAttr(default_factory=dict)


class Leaf(_Cond):
    fact: str
    op: Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "answered"]
    value: Union[FactRef, list[Scalar], Scalar]

    @model_validator(mode="before")
    @classmethod
    def _from_authoring_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and "op" not in data:
            ops = [k for k in data if k in COMPARISONS]
            others = [k for k in data if k not in COMPARISONS and k != "fact"]
            if len(ops) != 1 or others:
                raise ValueError(
                    "条件须写成 {fact: 事实编号, 比较: 值}，比较为 " + "/".join(COMPARISONS) + " 之一，且只能有一个"
                    + (f"；未知的键：{', '.join(map(str, others))}" if others else "")
                )
            return {"fact": data.get("fact"), "op": ops[0], "value": data[ops[0]]}
        return data


class AllOf(_Cond):
    all: list["Condition"] = Field(min_length=1)


class AnyOf(_Cond):
    any: list["Condition"] = Field(min_length=1)


class NotOf(_Cond):
    not_: "Condition" = Field(alias="not")


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "leaf"
    return {AllOf: "all", AnyOf: "any", NotOf: "not", Leaf: "leaf"}.get(type(value))


Condition = Annotated[
    Union[
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[NotOf, Tag("not")],
        Annotated[Leaf, Tag("leaf")],
    ],
    Discriminator(_condition_kind),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


# --------------------------------------------------------------------------- rules


class Outcome(str, Enum):
    triggered = "triggered"
    not_triggered = "not_triggered"
    undetermined = "undetermined"
    not_applicable = "not_applicable"
    excluded = "excluded"


class Citation(_Strict):
    """A clause reference as authored: the document version is the rule file's."""

    clause: str


class TestCase(_Strict):
    name: str
    facts: dict[str, Any] = Field(default_factory=dict)
    sectors: list[str] | None = None
    expect: Outcome
    note: str | None = None


class Rule(_Strict):
    id: RuleId
    cites: list[str] = Field(min_length=1)
    when: Condition | None = None
    condition: Condition
    major: bool = Field(True, description="false: an element that only counts toward a combination")
    finding: str = Field(min_length=2)
    rectification: str = Field(min_length=2)
    tests: list[TestCase] = Field(default_factory=list)
    replaces: Replacement | None = None

    @property
    def all_cites(self) -> list[str]:
        return self.cites


class Variant(_Strict):
    id: Identifier
    label: str
    when: Condition | None = None
    elements: list[str] = Field(min_length=1)
    at_least: int = Field(ge=1)
    cites: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _reachable(self) -> "Variant":
        if self.at_least > len(self.elements):
            raise ValueError(f"at_least={self.at_least} 超过要素数 {len(self.elements)}，永远无法成立")
        return self


class Combination(_Strict):
    id: RuleId
    cites: list[str] = Field(min_length=1)
    variants: list[Variant] = Field(min_length=1)
    # The clause was read only in part (some place categories or elements unseen): a
    # count below the threshold then proves nothing, so the combination may establish
    # a major hazard but never rule one out.
    partial: bool = False
    finding: str = Field(min_length=2)
    rectification: str = Field(min_length=2)
    tests: list[TestCase] = Field(default_factory=list)
    replaces: Replacement | None = None

    @property
    def all_cites(self) -> list[str]:
        """Its own clauses, then each variant's: what the combination encodes, for coverage and gaps.

        A finding cites only the variants that decided it (see verdicts), so a place judged
        under 5.3.3 a) is not also cited under b)–d).
        """
        return list(dict.fromkeys(self.cites + [c for v in self.variants for c in v.cites]))


class Exclusion(_Strict):
    id: RuleId
    cites: list[str] = Field(min_length=1)
    condition: Condition
    applies_to: list[str] | Literal["all"] = "all"
    note: str = Field(min_length=2)
    # What must be established for the exclusion to hold, as the verdict words it while the
    # exclusion is unanswered and a guarded clause is met: "构成…，除非{pending_note}".
    pending_note: str | None = Field(None, min_length=2)
    tests: list[TestCase] = Field(default_factory=list)
    replaces: Replacement | None = None

    @property
    def all_cites(self) -> list[str]:
        return self.cites


class IdMapping(_Strict):
    """How inherited item ids are renamed: the prefix ``from`` replaced by ``to``."""

    from_: str = Field(alias="from", min_length=1, max_length=40)
    to: str = Field(min_length=1, max_length=40)


class RuleInheritance(_Strict):
    """``extends:`` of a rule file: it takes every rule, combination and exclusion of the rule
    files encoding another version of the same document, renamed by ``ids``.

    Each inherited item keeps its conditions, citations, texts and test cases (run under the
    inheriting version); only its id changes, so the verdicts of both versions keep their own
    ids and an inherited item's problems are reported at the base file's lines.
    """

    version: str = Field(min_length=1, max_length=20)
    ids: IdMapping
    # Inherited items this file writes anew (by their new id): each takes the inherited item's
    # place. Any other new id the base already yields is an error.
    overrides: list[str] = Field(default_factory=list)


class RuleFile(_Strict):
    schema_: Literal["hazardjudge/rules/1"] = Field(alias="schema")
    document: Identifier
    version: str
    extends: RuleInheritance | None = None
    # Answers every test case in the file starts from (a case's own facts win): the
    # exclusion questions a triggered case must settle, written once.
    test_facts: dict[str, Any] = Field(default_factory=dict)
    # Named condition trees a clause set reuses (e.g. one annex's definition cited by
    # several items): written once, and `{use: name}` anywhere in this file's conditions
    # stands for the tree. The loader expands them before validation.
    definitions: dict[Identifier, Condition] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    combinations: list[Combination] = Field(default_factory=list)
    exclusions: list[Exclusion] = Field(default_factory=list)


class Constraint(_Strict):
    """Answers that cannot all be true at once; an input holding them is rejected."""

    id: Identifier
    condition: Condition
    message: str


class FactFile(_Strict):
    schema_: Literal["hazardjudge/facts/1"] = Field(alias="schema")
    facts: list[FactDef] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)


class Sector(_Strict):
    schema_: Literal["hazardjudge/sector/1"] = Field(alias="schema")
    id: Identifier
    title: str
    document: Identifier
    applies_when: Condition
    scope_note: str
    # Said when the sector does not apply, so a unit outside it is routed, never silently passed.
    not_applicable_note: str | None = None
    replaces: Replacement | None = None


class OverlayManifest(_Strict):
    """overlay.yaml at the top of an overlay folder: what the layer is, as verdicts name it."""

    schema_: Literal["hazardjudge/overlay/1"] = Field(alias="schema")
    id: Identifier
    title: str = Field(min_length=2)
    issuer: str | None = None
    note: str | None = None
    # A shipped demonstration, not an office's real criteria: verdicts say so.
    example: bool = False


# --------------------------------------------------------------------------- answer vocabulary


def _phrase_is_text(value: Any) -> Any:
    # YAML reads unquoted yes/no/on/1/0 as booleans and numbers: the author meant the words.
    if not isinstance(value, str):
        raise PydanticCustomError(
            "phrase_type", "{reason}", {"reason": f"短语必须是文字，{value!r} 被 YAML 读成了非文字（yes、no、1、0 等请加引号）"}
        )
    return value


Phrase = Annotated[str, BeforeValidator(_phrase_is_text), Field(min_length=1, max_length=40)]


class AnswerVocabulary(_Strict):
    """rules/answers.yaml: how written answers are read (see docs/yaml-reference.md)."""

    schema_: Literal["hazardjudge/answers/1"] = Field(alias="schema")
    yes_answers: list[Phrase] = Field(default_factory=list)
    no_answers: list[Phrase] = Field(default_factory=list)
    found_answers: list[Phrase] = Field(default_factory=list)
    not_found_answers: list[Phrase] = Field(default_factory=list)
    unknown_answers: list[Phrase] = Field(default_factory=list)
    unknown_whole_answers: list[Phrase] = Field(default_factory=list)
    affirming_prefixes: list[Phrase] = Field(default_factory=list)
    negating_prefixes: list[Phrase] = Field(default_factory=list)
    counting_words: list[Phrase] = Field(default_factory=list)
    approximation_words: list[Phrase] = Field(default_factory=list)


# --------------------------------------------------------------------------- observations (一般隐患)

#: Limits on free text an inspector types: long enough for a real record, short enough
#: that a pasted document cannot pass for one observation.
HAZARD_TEXT_LIMITS = {"description": 500, "location": 200, "photo": 500, "category": 80}
HAZARD_FIELD_ZH = {"description": "描述", "location": "位置", "photo": "照片", "category": "类别"}
MAX_GENERAL_HAZARDS = 200


def _hazard_text(name: str):
    limit = HAZARD_TEXT_LIMITS[name]

    def check(value: str) -> str:
        if len(value) > limit:
            raise PydanticCustomError(
                "hazard_text_too_long",
                "一般隐患的{field}不能超过 {limit} 字（现有 {length} 字）",
                {"field": HAZARD_FIELD_ZH[name], "limit": limit, "length": len(value)},
            )
        return value

    return AfterValidator(check)


def date_as_written(value: Any) -> Any:
    """A date as inspectors write it, before pydantic's own date check (None passes)."""
    # YAML gives a date for 2026-11-20 but a string for 2026年11月20日 and an int for 20261120.
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        try:
            return parse_date_text(value)
        except ValueError as exc:
            raise PydanticCustomError("date_text", "{reason}", {"reason": str(exc)}) from None
    if value is not None and not isinstance(value, dt.date):
        raise PydanticCustomError("date_type", "检查日期应为日期，如 2026-11-20 或 2026年11月20日")
    return value


#: A date field that accepts 2026年11月20日, 2026.11.20, 20261120 … (HTTP bodies, inspection files).
WrittenDate = Annotated[dt.date, BeforeValidator(date_as_written)]


class GeneralHazard(BaseModel):
    """A free-text 一般隐患 an inspector records; never judged, never cited to a clause.

    Text is kept exactly as written (markup, template syntax and control characters
    included): outputs escape it, nothing renders or fetches it. ``photo`` is a file
    name or address recorded as text. ``category`` names an entry of the observation
    catalogue (``rules/observations.yaml``); the engine checks it against the bundle.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: Annotated[str, _hazard_text("description")]
    location: Annotated[str, _hazard_text("location")] | None = None
    photo: Annotated[str, _hazard_text("photo")] | None = None
    deadline: WrittenDate | None = None
    category: Annotated[str, _hazard_text("category")] | None = None

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("hazard_blank", "一般隐患的描述不能为空")
        return value


class ObservationCoverage(_Strict):
    """A question that decides the observation under a clause (checked by the loader)."""

    fact: str
    document: str = Field(description="document@version whose clause is cited")
    clause: str
    partial: bool = False
    note: str | None = None


class Observation(_Strict):
    """An observation class found in real records: mapped to questions, or explicitly general."""

    id: Identifier
    label: str = Field(min_length=2)
    sector: str
    match: list[str] = Field(default_factory=list, description="phrases that name this observation in a description")
    covered_by: list[ObservationCoverage] = Field(default_factory=list)
    general: bool = False
    note: str = Field(min_length=2)

    @model_validator(mode="after")
    def _one_kind(self) -> "Observation":
        if self.general == bool(self.covered_by):
            raise ValueError("每个情形须写 covered_by（对应的问题与条款）或 general: true（作为一般隐患），且只能二选一")
        return self


class ObservationCatalogue(_Strict):
    schema_: Literal["hazardjudge/observations/1"] = Field(alias="schema")
    observations: list[Observation] = Field(min_length=1)


# --------------------------------------------------------------------------- inspection input


class Inspection(BaseModel):
    """What a caller asks about: answers keyed by fact id, the date, optional sectors."""

    model_config = ConfigDict(extra="forbid")

    facts: dict[str, Any] = Field(default_factory=dict)
    on: WrittenDate | None = None
    sectors: list[str] | None = None
    general_hazards: list[GeneralHazard] = Field(default_factory=list, max_length=MAX_GENERAL_HAZARDS)


    @field_validator("facts")
    @classmethod
    def _keys_are_text(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"问题编号必须是文本：{key!r}")
        return value


# --------------------------------------------------------------------------- verdict


class OverallOutcome(str, Enum):
    major = "major"
    none = "none"
    undetermined = "undetermined"


class DocumentOutcome(str, Enum):
    major = "major"
    none = "none"
    undetermined = "undetermined"
    not_applicable = "not_applicable"
    no_version_in_force = "no_version_in_force"


_REQUIRED = object()


class _Spec:
    """What :meth:`_Out.trusted` needs to know about one output model, worked out once."""

    __slots__ = ("names", "name_set", "defaults")

    def __init__(self, cls: type[BaseModel]) -> None:
        fields = cls.__pydantic_fields__
        self.names = tuple(fields)
        self.name_set = frozenset(fields)
        # Fields with a default factory count as required: trusted() fills plain defaults only.
        self.defaults = {
            name: f.default for name, f in fields.items() if not f.is_required() and f.default_factory is None
        }


_SPECS: dict[type, _Spec] = {}


class _Out(BaseModel):
    # Deferred: a text report never validates or serialises the verdict, so its schema is
    # built only when JSON is asked for. (With model_construct this tripled the time to
    # build a verdict, re-deriving the class signature per call; trusted() never looks.)
    model_config = ConfigDict(frozen=True, defer_build=True)

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """An instance from values the engine already checked, as ``model_construct`` makes it.

        A verdict holds hundreds of these, and ``model_construct``'s generic handling of
        aliases and default factories was most of the time to build one. ``__dict__``
        follows declaration order because the JSON output does; callers that pass every
        field in that order skip the reordering.
        """
        spec = _SPECS.get(cls)
        if spec is None:
            spec = _SPECS[cls] = _Spec(cls)
        names = spec.names
        if tuple(values) == names:
            data = values
            fields_set = set(spec.name_set)
        else:
            unknown = values.keys() - spec.name_set
            missing = spec.name_set - values.keys() - spec.defaults.keys()
            if unknown or missing:
                raise TypeError(f"{cls.__name__}.trusted: unknown {sorted(unknown)}, missing {sorted(missing)}")
            data = {name: values[name] if name in values else spec.defaults[name] for name in names}
            fields_set = set(values)
        m = _new(cls)
        _set(m, "__dict__", data)
        _set(m, "__pydantic_fields_set__", fields_set)
        _set(m, "__pydantic_extra__", None)
        _set(m, "__pydantic_private__", None)
        return m


class FactValue(_Out):
    id: str
    question: str
    value: Any
    display: str


class QuestionRole(str, Enum):
    exclusion = "exclusion"  # decides whether a met clause is excluded
    applicability = "applicability"  # a sector scope, a rule's `when`, a variant's place category
    condition = "condition"  # a clause's own condition (or an exclusion of a clause not yet met)


class QuestionTarget(_Out):
    """One open clause a question could decide."""

    document: str
    version: str
    rule: str
    clauses: list[str]
    role: QuestionRole


class Question(_Out):
    id: str
    question: str
    type: FactType
    help: str | None = None
    unit: str | None = None
    values: dict[str, str] | None = None
    role: QuestionRole = QuestionRole.condition
    reason: str = Field("", description="why the answer matters, in Chinese")
    decides: list[QuestionTarget] = Field(default_factory=list, description="the open clauses the answer could decide")


class ClauseRef(_Out):
    document: str
    version: str
    number: str
    clause: str
    summary: str
    verification: Literal["verified", "single_source", "unverified"]


class DocumentRef(_Out):
    document: str
    version: str
    title: str
    number: str
    issuer: str
    effective: dt.date
    superseded: dt.date | None
    major_label: str
    layer: str = Field("shipped", description="the bundle layer that defines this document version")


class LayerRef(_Out):
    """One layer of the bundle: the base (shipped) criteria, or an office's overlay on top."""

    id: str
    title: str
    overlay: bool
    example: bool = False


class ReplacementRef(_Out):
    """An overlay item that replaces a lower layer's item of the same id, and why."""

    what: Literal["document", "fact", "sector", "rule", "combination", "exclusion"]
    id: str
    layer: str
    replaced_layer: str
    reason: str


class CountDetail(_Out):
    """One place category's count toward a combination."""

    variant: str
    label: str
    applies: "Applicability"
    threshold: int
    counted: int
    undecided: int
    elements: list[str] = Field(description="rule ids of the elements counted")
    clauses: list[str] = Field(description="the clauses those elements cite")


class Applicability(str, Enum):
    applicable = "applicable"
    not_applicable = "not_applicable"
    undetermined = "undetermined"


class RuleResult(_Out):
    rule: str
    kind: Literal["rule", "combination", "exclusion"]
    major: bool
    outcome: Outcome
    citations: list[ClauseRef]
    finding: str | None = None
    rectification: str | None = None
    facts: list[FactValue] = Field(default_factory=list, description="the answers that decided this outcome")
    missing: list[str] = Field(default_factory=list, description="unanswered fact ids that block a decision")
    excluded_by: list[str] = Field(default_factory=list)
    pending_exclusions: list[str] = Field(
        default_factory=list,
        description="the clause's own condition is met; these unanswered exclusions still decide it (outcome stays undetermined)",
    )
    pending_note: str | None = Field(None, description="构成…，除非… : what would have to be established for an exclusion to hold")
    counts: list[CountDetail] = Field(default_factory=list)
    partial: bool = Field(
        False, description="a combination whose clause was read only in part: it can establish a major hazard, never rule one out"
    )
    layer: str = Field("shipped", description="the bundle layer this rule comes from (shipped, or an overlay's id)")
    replaces: ReplacementRef | None = Field(None, description="set when an overlay's rule replaces a lower layer's rule of the same id")
    status: Literal["confirmed", "provisional"] = Field(
        "confirmed",
        description="provisional: judged against an earlier version whose status after its successor took effect is not verified",
    )
    status_note: str | None = Field(None, description="the provisional label, e.g. 依据…第五项；该文件…效力未核实…")


class GapReason(str, Enum):
    not_encoded = "not_encoded"
    unverified = "unverified"


class ClauseGap(_Out):
    clause: str
    summary: str
    reason: GapReason


class DocumentResult(_Out):
    sector: str
    sector_title: str
    document: DocumentRef | None
    applicability: Applicability
    applicability_facts: list[FactValue] = Field(default_factory=list)
    named_by_caller: bool
    outcome: DocumentOutcome
    outcome_label: str
    results: list[RuleResult] = Field(default_factory=list)
    gaps: list[ClauseGap] = Field(default_factory=list)
    identity_only: bool = Field(
        False, description="the version in force is recorded (title, number, dates) but none of its clauses is encoded"
    )
    # Plain defaults (not factories): trusted() fills them for documents without a reference.
    reference: DocumentRef | None = Field(
        None, description="the earlier version judged as provisional reference while this version's items are not encoded"
    )
    reference_note: str | None = None
    provisional: list[RuleResult] = Field(
        [], description="results against the reference version (status provisional): never confirmed findings"
    )


class HazardHint(_Out):
    """A general hazard whose observation class a question decides (never a finding)."""

    hazard: int = Field(description="index into general_hazards")
    observation: str
    fact: str
    question: str
    document: str
    clause: str
    partial: bool
    message: str


class Verdict(_Out):
    schema_version: Literal["1.0"] = VERDICT_SCHEMA_VERSION
    inspection_date: dt.date
    outcome: OverallOutcome
    outcome_label: str
    documents: list[DocumentResult]
    questions: list[Question] = Field(
        description="unanswered questions whose answer could still change the overall outcome, most decisive first"
    )
    possible_outcomes: list[OverallOutcome] = Field(
        default_factory=list, description="outcomes still reachable by answering the questions, the current one first"
    )
    further_questions: list[Question] = Field(
        default_factory=list,
        description="when the outcome is already major: unanswered questions that could add another major finding",
    )
    pending: int = Field(0, description="met clauses whose exclusions are still unanswered")
    provisional: int = Field(0, description="major items met under a provisional reference version: labelled, never confirmed")
    bundle: str = Field(description="fingerprint of the criteria and rules used")
    # Plain defaults (not factories): trusted() fills them when the builder leaves them out.
    general_hazards: list[GeneralHazard] = Field([], description="一般隐患 recorded as free text: listed, never judged")
    general_hazard_hints: list[HazardHint] = Field(
        [], description="a recorded 一般隐患 that a question decides: answer it to judge whether it is major"
    )
    layers: list[LayerRef] = Field([], description="the bundle's layers, base first, then each overlay in order")
    replacements: list[ReplacementRef] = Field([], description="every item an overlay replaces, with its reason")

    def findings(self) -> list[RuleResult]:
        return [
            r for d in self.documents for r in d.results if r.outcome is Outcome.triggered and r.major
        ]

    def provisional_findings(self) -> list[RuleResult]:
        """Major items met under a provisional reference version: shown with their label, never confirmed."""
        return [r for d in self.documents for r in d.provisional if r.outcome is Outcome.triggered and r.major]

    def pending_findings(self) -> list[RuleResult]:
        """Met clauses that are major unless an exclusion still to be decided applies: not findings."""
        return [r for d in self.documents for r in d.results if r.pending_exclusions]
