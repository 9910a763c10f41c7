"""Compile a :class:`~hazardjudge.engine.loading.Bundle` into durable_rules rulesets.

For every document version the compiler emits:

* element rulesets, each a slice of the version's rules. A rule becomes one
  durable rule per DNF conjunction of "applies ∧ condition true" (outcome
  triggered), "applies ∧ condition false" (not triggered) and "does not apply"
  (not applicable). Undetermined is the absence of all three. Slices keep the
  number of alpha nodes one fact passes below the C core's limit (error 303).
* one *final* ruleset holding the forward-chaining layer: derived facts that
  element actions assert (element outcomes, exclusion outcomes, variant
  applicability) are counted by ``count`` rules and joined against exclusions.

Python only routes what a firing asserts; every decision is a Rete match.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hazardjudge.engine import cache as bundle_cache
from hazardjudge.engine.conditions import (
    DNF,
    NAMED_PREFIX,
    Atom,
    conjoin,
    false_dnf,
    referenced_facts,
    scope_condition,
    to_scalar,
    true_dnf,
)
from hazardjudge.engine.heap import collector_paused
from hazardjudge.engine.loading import Bundle, DocumentVersion, RuleSource
from hazardjudge.engine.logic import rule_contradictions
from hazardjudge.engine.models import (
    AllOf,
    Combination,
    Condition,
    Exclusion,
    FactRef,
    FactType,
    Outcome,
    Rule,
    Sector,
)
from hazardjudge.errors import BundleError

#: durable rules per element ruleset; measured safe against error 303 (tests/test_engine_lifecycle.py)
DEFAULT_SLICE = 40
#: attributes per asserted fact; the C core refuses more than 252 (error 302)
MAX_ATTRIBUTES = 200


@dataclass(frozen=True, slots=True)
class Fire:
    """What one durable rule means when it fires."""

    target: str  # rule/combination/exclusion id, "scope:<sector>", or "" for the sentinel
    outcome: Outcome | None  # None: an intermediate step that only asserts derived facts
    facts: tuple[str, ...] = ()
    emits: tuple[str, ...] = ()  # JSON bodies (without sid) asserted into the final ruleset
    excluded_by: str | None = None
    branch: tuple[Atom, ...] = ()  # the conjunction this durable rule tests, for coverage reports
    # The target's own condition is met but exclusions guard it: the final ruleset decides
    # it. Recorded so a met clause whose exclusions are unanswered can be told apart.
    met: bool = False


@dataclass
class CompiledRuleset:
    name: str
    definition: dict[str, Any]
    fires: dict[str, Fire]
    # Fact ids whose attributes this ruleset tests: only these are sent to it,
    # which keeps each asserted fact under the C core's 252-attribute limit.
    reads: dict[str, None] = field(default_factory=dict)
    # The definition as the C core reads it, written once the version is compiled (a third of
    # creating the shipped bundle's rulesets); the bundle cache keeps it with the version.
    text: str | None = field(default=None, repr=False)

    def engine_text(self) -> str:
        if self.text is None:
            self.text = engine_json(self.definition)
        return self.text


@dataclass(frozen=True, slots=True)
class Forms:
    """A condition's true and false DNF, kept to tell which unanswered facts could still decide it."""

    true: tuple[tuple[Atom, ...], ...]
    false: tuple[tuple[Atom, ...], ...]

    @classmethod
    def of(cls, cond: Condition | None) -> "Forms":
        return cls(tuple(true_dnf(cond)), tuple(false_dnf(cond)))


ALWAYS = Forms(((),), ())


@dataclass(frozen=True, slots=True)
class VariantForms:
    key: str  # "<combination>/<variant>", the variant's applicability target
    when: Forms  # without the sector scope, which is judged once per document
    elements: tuple[str, ...]
    at_least: int


@dataclass
class TargetInfo:
    """What the verdict needs to know about one decidable thing, outside the engine."""

    id: str
    kind: str  # rule | combination | exclusion | scope
    major: bool
    cites: tuple[str, ...]
    reads: tuple[str, ...]  # facts the target's own conditions read (the sector scope's are separate)
    source: RuleSource | None = None
    # For the verdict's question relevance (relevance.py), worked out once at compile time:
    when: Forms = ALWAYS  # a rule's own `when` (the sector scope's forms are the scope target's condition)
    condition: Forms = ALWAYS
    variants: tuple[VariantForms, ...] = ()
    guards: tuple[str, ...] = ()  # exclusions guarding this target


@dataclass
class CompiledDocument:
    key: str
    sector: str
    element_rulesets: list[CompiledRuleset]
    final: CompiledRuleset
    targets: dict[str, TargetInfo]


class LazyDocuments(Mapping[str, CompiledDocument]):
    """Document versions, each compiled the first time it is asked for.

    A judgement reads only the versions in force on its date whose sector may apply
    (most of a CLI run's compile time went to versions it never looked at); iterating
    compiles them all. Keys, membership and each version's sector need no compiling.
    """

    def __init__(self, compiler: "Compiler", sectors: dict[str, Sector]) -> None:
        self._compiler = compiler
        self._sectors = sectors
        self.sector_of = {key: sector.id for key, sector in sectors.items()}
        self._done: dict[str, CompiledDocument] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> CompiledDocument:
        doc = self._done.get(key)
        if doc is None:
            sector = self._sectors[key]
            with self._lock:  # engines are shared between threads: compile each version once
                doc = self._done.get(key)
                if doc is None:
                    bundle = self._compiler.bundle
                    cached = bundle.cache_key
                    entry = f"{key}\0{self._compiler.slice_size}"  # slicing changes the rulesets
                    doc = bundle_cache.get_document(cached, entry, bundle.items) if cached else None
                    if doc is None:
                        with collector_paused():
                            doc = self._compiler.document(key, sector)
                        if cached:
                            for rs in (*doc.element_rulesets, doc.final):
                                rs.engine_text()
                            bundle_cache.put_document(cached, entry, doc, bundle.items)
                    self._done[key] = doc
        return doc

    def __contains__(self, key: object) -> bool:
        return key in self._sectors

    def __iter__(self) -> Iterator[str]:
        return iter(self._sectors)

    def __len__(self) -> int:
        return len(self._sectors)


@dataclass
class CompiledBundle:
    bundle: Bundle
    attributes: dict[str, str]  # fact id (or "fact=value" for sets) → engine attribute name
    scope: CompiledRuleset
    scope_targets: dict[str, TargetInfo]
    documents: LazyDocuments
    # Each document's versions by effective date, sorted once: a verdict picks the version in
    # force for every sector, and sorting the bundle's versions each time was a tenth of it.
    _versions: dict[str, tuple[DocumentVersion, ...]] = field(default_factory=dict, repr=False)

    def versions_of(self, document: str) -> tuple[DocumentVersion, ...]:
        versions = self._versions.get(document)
        if versions is None:
            versions = self._versions[document] = tuple(self.bundle.versions_of(document))
        return versions


# A JSON string, or a number written with an exponent: the C core cannot read the latter.
_STRING_OR_EXPONENT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?[eE][-+]?\d+')
_EXPONENT = re.compile(r"\d[eE][-+]?\d")


def _fixed(match: re.Match[str]) -> str:
    token = match.group()
    return token if token[0] == '"' else format(Decimal(token), "f")


def engine_json(value: Any) -> str:
    """JSON for the C core, whose parser rejects exponents (``1e-05`` fails with error 204)."""
    if isinstance(value, (dict, list)):
        # A ruleset definition: the C encoder writes the same text as _engine_json below
        # (compact separators, text unescaped, floats as repr) many times faster, which
        # was half the time of compiling a large bundle. Numbers it wrote with an exponent
        # (the comparison tolerance, 1e-09) are rewritten outside strings only.
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return _STRING_OR_EXPONENT.sub(_fixed, text) if _EXPONENT.search(text) else text
    return _engine_json(value)


def _engine_json(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("non-finite number")
        text = repr(value)
        # Decimal only when repr chose an exponent; otherwise it would give back the same digits.
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_engine_json(str(k))}:{_engine_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_engine_json(v) for v in value) + "]"
    if value is None:
        return "null"
    raise TypeError(type(value))


class _Namer:
    def __init__(self, base: str = "") -> None:
        self._base = base
        self._n = itertools.count()

    def __call__(self, prefix: str) -> str:
        return f"{self._base}{prefix}{next(self._n)}"


def attribute_names(bundle: Bundle) -> dict[str, str]:
    """Engine attribute per fact: ids lose their dots; a set fact gets one boolean per value."""
    out: dict[str, str] = {}
    for fid, fact in bundle.facts.items():
        base = fid.replace(".", "__")
        if fact.type is FactType.set:
            for value in fact.values or {}:
                out[f"{fid}={value}"] = f"{base}__{value}"
        else:
            out[fid] = base
    for sector in bundle.sectors:
        out[NAMED_PREFIX + sector] = "_named__" + sector
    return out


# Tolerance of fact-to-fact comparisons in the engine: answers are measured lengths,
# areas, counts and pressures within ±100,000, where float error stays below 1e-10 and
# real differences above 1e-6.
EPSILON = 1e-9


class Compiler:
    def __init__(self, bundle: Bundle, slice_size: int = DEFAULT_SLICE) -> None:
        self.bundle = bundle
        self.slice_size = slice_size
        self.attrs = attribute_names(bundle)
        # Durable rule names only need to be unique in the bundle (coverage and the fired
        # set are keyed by them); a prefix per document version keeps them independent of
        # the order in which versions happen to be compiled.
        self._prefixes = {key: f"d{i}" for i, key in enumerate(bundle.documents)}

    # ----------------------------------------------------------------- atoms → JSON

    def _test(self, atom: Atom) -> list[dict[str, Any]]:
        if atom.op in ("contains", "not_contains"):
            return [{self.attrs[f"{atom.fact}={atom.value}"]: atom.op == "contains"}]
        attr = self.attrs[atom.fact]
        if atom.op == "present":
            return [{"$ex": {attr: 1}}]
        if atom.op == "absent":
            return [{"$nex": {attr: 1}}]
        if isinstance(atom.value, FactRef):
            ref = self.attrs[atom.value.fact]
            expr: Any = {"$m": ref}
            if atom.value.times != 1:
                expr = {"$mul": {"$l": expr, "$r": atom.value.times}}
            # The C core multiplies in binary floating point (6 × 0.8 = 4.800000000000001),
            # so a measurement exactly at the limit would fall on the wrong side. Shift
            # the bound by far less than any measured difference, towards "at the limit
            # is not beyond it": the oracle compares the same numbers in exact decimals.
            shift = atom.value.plus + {"lt": -EPSILON, "gte": -EPSILON, "gt": EPSILON, "lte": EPSILON}.get(atom.op, 0.0)
            if shift != 0:
                expr = {"$add": {"$l": expr, "$r": shift}}
            # Guards first: the C core compares against garbage when the
            # referenced attribute is absent (measured: a wrong hit every time).
            return [{"$ex": {attr: 1}}, {"$ex": {ref: 1}}, {f"${atom.op}": {attr: expr}}]
        value = to_scalar(atom.value)
        if atom.op == "eq":
            return [{attr: value}]
        return [{f"${'neq' if atom.op == 'ne' else atom.op}": {attr: value}}]

    def _pattern(self, conj: tuple[Atom, ...], kind: str = "i") -> dict[str, Any]:
        tests: list[dict[str, Any]] = [{"t": kind}]
        for atom in conj:
            tests.extend(self._test(atom))
        return tests[0] if len(tests) == 1 else {"$and": tests}

    def _add(
        self,
        rs: CompiledRuleset,
        namer: _Namer,
        dnf: DNF,
        target: str,
        outcome: Outcome | None,
        emits: tuple[str, ...] = (),
        met: bool = False,
    ) -> None:
        """One durable rule per conjunction, each meaning ``target`` has ``outcome``."""
        for conj in dnf:
            name = namer("r")
            rs.definition[name] = {"all": [{"m": self._pattern(conj)}]}
            facts = tuple(dict.fromkeys(f for atom in conj for f in atom.facts()))
            rs.fires[name] = Fire(target, outcome, facts, emits, branch=conj, met=met)
            for f in facts:
                rs.reads.setdefault(f)

    def attribute_count(self, facts: Any) -> int:
        bundle_facts = self.bundle.facts
        return sum(
            len(bundle_facts[f].values or {}) if f in bundle_facts and bundle_facts[f].type is FactType.set else 1
            for f in facts
        )

    # ----------------------------------------------------------------- scope

    def compile(self) -> CompiledBundle:
        scope = CompiledRuleset("scope", {}, {})
        self._sentinel(scope)
        scope_targets: dict[str, TargetInfo] = {}
        namer = _Namer()
        for sid, loc in self.bundle.sectors.items():
            cond = scope_condition(loc.model)
            target = f"scope:{sid}"
            self._add(scope, namer, true_dnf(cond), target, Outcome.triggered)
            self._add(scope, namer, false_dnf(cond), target, Outcome.not_applicable)
            scope_targets[target] = TargetInfo(
                target, "scope", False, (), tuple(referenced_facts(cond)), condition=Forms.of(cond)
            )
        sectors = {}
        for key, version in self.bundle.documents.items():
            sector = self.bundle.sector_of_document(version.doc.document)
            if sector is not None:
                sectors[key] = sector
        return CompiledBundle(self.bundle, self.attrs, scope, scope_targets, LazyDocuments(self, sectors))

    def _sentinel(self, rs: CompiledRuleset) -> None:
        # Every session must run at least one action before delete_state, or
        # the C core frees uninitialised memory (segfault, measured).
        rs.definition["sentinel"] = {"all": [{"m": {"t": "i"}}]}
        rs.fires["sentinel"] = Fire("", None)

    # ----------------------------------------------------------------- one document version

    def document(self, key: str, sector: Sector) -> CompiledDocument:
        namer = _Namer(self._prefixes[key])
        sources = self.bundle.items_of(key)
        scope = scope_condition(sector)
        rules = [s for s in sources if isinstance(s.item, Rule)]
        # A rule that can never trigger would report a real hazard as 未发现: refuse the
        # version as a malformed file is refused (the check reuses the DNFs compiled below).
        if problems := [p for s in rules for p in rule_contradictions(s, self.bundle.facts)]:
            raise BundleError(problems)
        combos = [s for s in sources if isinstance(s.item, Combination)]
        exclusions = [s for s in sources if isinstance(s.item, Exclusion)]

        # Which exclusions guard which targets, and which variants count which elements.
        guards: dict[str, list[str]] = {}
        for s in exclusions:
            excl: Exclusion = s.item
            # An exclusion stops a *major* determination; counted elements stay 一般隐患.
            targets = (
                [r.item.id for r in rules if r.item.major] + [c.item.id for c in combos]
                if excl.applies_to == "all"
                else excl.applies_to
            )
            for t in targets:
                guards.setdefault(t, []).append(excl.id)
        member_of: dict[str, list[str]] = {}
        for s in combos:
            for v in s.item.variants:
                for e in v.elements:
                    member_of.setdefault(e, []).append(f"{s.item.id}/{v.id}")

        def emit(body: dict[str, Any]) -> str:
            return engine_json(body)[1:-1]

        targets: dict[str, TargetInfo] = {}
        slices: list[CompiledRuleset] = []
        current: CompiledRuleset | None = None

        def ruleset(*conditions: Condition | None) -> CompiledRuleset:
            nonlocal current
            needed = {f for c in conditions for f in referenced_facts(c)} | set(scope_facts)
            if (
                current is None
                or len(current.definition) >= self.slice_size
                or self.attribute_count(set(current.reads) | needed) > MAX_ATTRIBUTES
            ):
                current = CompiledRuleset(f"{key}#{len(slices)}", {}, {})
                self._sentinel(current)
                slices.append(current)
            return current

        scope_facts = referenced_facts(scope)
        for s in rules:
            rule: Rule = s.item
            applies = AllOf(all=[scope] + ([rule.when] if rule.when is not None else []))
            ta, fa = true_dnf(applies), false_dnf(applies)
            variants = member_of.get(rule.id, [])
            yes = tuple(emit({"t": "e", "v": v, "o": "T", "r": rule.id}) for v in variants)
            no = tuple(emit({"t": "e", "v": v, "o": "N", "r": rule.id}) for v in variants)
            guarded = rule.id in guards
            rs = ruleset(rule.when, rule.condition)
            t_outcome = None if guarded else Outcome.triggered
            t_emits = yes + ((emit({"t": "r", "r": rule.id}),) if guarded else ())
            self._add(rs, namer, conjoin(ta, true_dnf(rule.condition)), rule.id, t_outcome, t_emits, met=guarded)
            self._add(rs, namer, conjoin(ta, false_dnf(rule.condition)), rule.id, Outcome.not_triggered, no)
            self._add(rs, namer, fa, rule.id, Outcome.not_applicable, no)
            reads = tuple(dict.fromkeys(referenced_facts(rule.when) + referenced_facts(rule.condition)))
            targets[rule.id] = TargetInfo(
                rule.id, "rule", rule.major, tuple(rule.cites), reads, s,
                when=Forms.of(rule.when), condition=Forms.of(rule.condition), guards=tuple(guards.get(rule.id, ())),
            )

        for s in exclusions:
            excl = s.item
            ta, fa = true_dnf(scope), false_dnf(scope)
            rs = ruleset(excl.condition)
            yes_x = (emit({"t": "x", "x": excl.id, "o": "T"}),)
            no_x = (emit({"t": "x", "x": excl.id, "o": "F"}),)
            self._add(rs, namer, conjoin(ta, true_dnf(excl.condition)), excl.id, Outcome.triggered, yes_x)
            self._add(rs, namer, conjoin(ta, false_dnf(excl.condition)), excl.id, Outcome.not_triggered, no_x)
            self._add(rs, namer, fa, excl.id, Outcome.not_applicable, no_x)
            reads = tuple(dict.fromkeys(referenced_facts(excl.condition)))
            targets[excl.id] = TargetInfo(
                excl.id, "exclusion", False, tuple(excl.cites), reads, s, condition=Forms.of(excl.condition)
            )

        final = CompiledRuleset(f"{key}#final", {}, {})
        self._sentinel(final)

        for s in combos:
            combo: Combination = s.item
            guarded = combo.id in guards
            reads: list[str] = []
            variant_keys = []
            for v in combo.variants:
                vkey = f"{combo.id}/{v.id}"
                variant_keys.append(vkey)
                applies = AllOf(all=[scope] + ([v.when] if v.when is not None else []))
                rs = ruleset(v.when)
                va = (emit({"t": "va", "v": vkey}),)
                vo_no = (emit({"t": "vo", "v": vkey, "o": "N"}),)
                # The variant's own applicability is recorded too: the verdict shows which
                # threshold applied to this place.
                self._add(rs, namer, true_dnf(applies), vkey, Outcome.triggered, va)
                self._add(rs, namer, false_dnf(applies), vkey, Outcome.not_applicable, vo_no)
                reads += referenced_facts(v.when)
                for e in v.elements:
                    reads += targets[e].reads
                t_emits = (emit({"t": "r", "r": combo.id}),) if guarded else ()
                name = namer("c")
                final.definition[name] = {
                    "all": [
                        {"a": {"$and": [{"t": "va"}, {"v": vkey}]}},
                        {"b": {"$and": [{"t": "e"}, {"v": vkey}, {"o": "T"}]}},
                    ],
                    "count": v.at_least,
                }
                final.fires[name] = Fire(combo.id, None if guarded else Outcome.triggered, (), t_emits, met=guarded)
                name = namer("c")
                final.definition[name] = {
                    "all": [{"b": {"$and": [{"t": "e"}, {"v": vkey}, {"o": "N"}]}}],
                    "count": len(v.elements) - v.at_least + 1,
                }
                final.fires[name] = Fire(combo.id, None, (), vo_no)
            if not combo.partial:
                name = namer("c")
                final.definition[name] = {
                    "all": [{f"v{i}": {"$and": [{"t": "vo"}, {"v": vk}, {"o": "N"}]}} for i, vk in enumerate(variant_keys)]
                }
                final.fires[name] = Fire(combo.id, Outcome.not_triggered)
            forms = tuple(
                VariantForms(f"{combo.id}/{v.id}", Forms.of(v.when), tuple(v.elements), v.at_least) for v in combo.variants
            )
            targets[combo.id] = TargetInfo(
                combo.id, "combination", True, tuple(combo.cites), tuple(dict.fromkeys(reads)), s,
                variants=forms, guards=tuple(guards.get(combo.id, ())),
            )

        for target, excl_ids in guards.items():
            raw = {"a": {"$and": [{"t": "r"}, {"r": target}]}}
            name = namer("x")
            final.definition[name] = {
                "all": [raw] + [{f"x{i}": {"$and": [{"t": "x"}, {"x": x}, {"o": "F"}]}} for i, x in enumerate(excl_ids)]
            }
            final.fires[name] = Fire(target, Outcome.triggered)
            for x in excl_ids:
                name = namer("x")
                final.definition[name] = {"all": [raw, {"b": {"$and": [{"t": "x"}, {"x": x}, {"o": "T"}]}}]}
                final.fires[name] = Fire(target, Outcome.excluded, excluded_by=x)
            info = targets[target]
            extra = tuple(f for x in excl_ids for f in targets[x].reads)
            info.reads = tuple(dict.fromkeys(info.reads + extra))

        return CompiledDocument(key, sector.id, slices, final, targets)


def compile_bundle(bundle: Bundle, slice_size: int = DEFAULT_SLICE) -> CompiledBundle:
    return Compiler(bundle, slice_size).compile()
