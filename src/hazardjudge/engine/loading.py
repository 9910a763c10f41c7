"""Read criteria/ and rules/ into a validated :class:`Bundle`.

Every problem found carries file, line and column. Errors refuse the whole
bundle: the engine never runs with a rule silently dropped. Warnings (a clause
no rule encodes yet, a fact nobody reads) are kept for ``hazardjudge lint``
and surface in verdicts as gaps.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from hazardjudge.engine.conditions import (
    MAX_JOINED,
    ConditionTooLarge,
    conjoin,
    false_dnf,
    iter_leaves,
    referenced_facts,
    scope_condition,
    true_dnf,
    unguarded_branches,
)
from hazardjudge.engine.models import (
    COMPARISONS,
    PLACEHOLDER,
    AllOf,
    AnswerVocabulary,
    Clause,
    Combination,
    Condition,
    CriteriaDocument,
    Exclusion,
    FactDef,
    FactFile,
    FactRef,
    FactType,
    ObservationCatalogue,
    Outcome,
    Rule,
    RuleFile,
    Sector,
)
from hazardjudge.engine.vocabulary import Vocabulary
from hazardjudge.engine.vocabulary import build as build_vocabulary
from hazardjudge.engine.yamlio import load_yaml_file, position_of
from hazardjudge.errors import BundleError, InputError, Position, Problem, suggest

M = TypeVar("M", bound=BaseModel)

_NUMERIC = (FactType.integer, FactType.number, FactType.date)
_OPS_BY_TYPE = {
    FactType.boolean: {"eq", "ne"},
    FactType.integer: {"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in"},
    FactType.number: {"eq", "ne", "lt", "lte", "gt", "gte"},
    FactType.date: {"eq", "ne", "lt", "lte", "gt", "gte"},
    FactType.enum: {"eq", "ne", "in", "not_in"},
    FactType.set: {"contains"},
    FactType.text: set(),  # free text is shown in findings, never compared
}


@dataclass
class Located:
    """A parsed model with the raw mapping it came from, to place later problems."""

    model: Any
    raw: Any
    path: Path

    def pos(self, *steps: Any) -> Position | None:
        return position_of(self.raw, tuple(steps), Position(str(self.path), 1, 1))


@dataclass
class ClauseEntry:
    clause: Clause
    parent: str | None
    position: Position | None


@dataclass
class DocumentVersion:
    doc: CriteriaDocument
    located: Located
    clauses: dict[str, ClauseEntry]

    @property
    def key(self) -> str:
        return self.doc.key


@dataclass
class RuleSource:
    """A rule, combination or exclusion and where it lives."""

    item: Rule | Combination | Exclusion
    file: Located
    index_path: tuple[Any, ...]
    sector: str

    def pos(self, *steps: Any) -> Position | None:
        return self.file.pos(*self.index_path, *steps)


@dataclass
class Bundle:
    criteria_dir: Path
    rules_dir: Path
    documents: dict[str, DocumentVersion] = field(default_factory=dict)
    facts: dict[str, FactDef] = field(default_factory=dict)
    fact_pos: dict[str, Position | None] = field(default_factory=dict)
    constraints: list[Located] = field(default_factory=list)
    sectors: dict[str, Located] = field(default_factory=dict)
    rule_files: list[Located] = field(default_factory=list)
    items: dict[str, RuleSource] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    fingerprint: str = ""
    # How written answers are read: the shipped rules/answers.yaml plus this bundle's own.
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    # rules/observations.yaml: observation classes seen in records, mapped to questions or general
    observations: Located | None = None

    def versions_of(self, document: str) -> list[DocumentVersion]:
        return sorted(
            (v for v in self.documents.values() if v.doc.document == document),
            key=lambda v: v.doc.effective,
        )

    def items_of(self, doc_key: str) -> list[RuleSource]:
        return [s for s in self.items.values() if f"{s.file.model.document}@{s.file.model.version}" == doc_key]

    def sector_of_document(self, document: str) -> Sector | None:
        for loc in self.sectors.values():
            if loc.model.document == document:
                return loc.model
        return None


# --------------------------------------------------------------------------- locating data


def _package_data() -> Path | None:
    try:
        root = resources.files("hazardjudge") / "_data"
    except ModuleNotFoundError:  # pragma: no cover - package always importable here
        return None
    path = Path(str(root))
    return path if (path / "criteria").is_dir() else None


def default_dirs() -> tuple[Path, Path]:
    """The shipped criteria and rules: inside the wheel, or the checkout's root in development."""
    data = _package_data()
    if data is not None:
        return data / "criteria", data / "rules"
    root = Path(__file__).resolve().parents[3]
    return root / "criteria", root / "rules"


#: the answer vocabulary, at the top of a rules folder
VOCABULARY_FILE = "answers.yaml"


def _shipped_vocabulary_path() -> Path:
    return default_dirs()[1] / VOCABULARY_FILE


@functools.cache
def default_vocabulary() -> Vocabulary:
    """The shipped answer vocabulary, for readers given no bundle's (read once per process)."""
    problems: list[Problem] = []
    vocab = _load_vocabulary(None, problems)
    if problems:
        raise BundleError(problems)
    return vocab


def _load_vocabulary(rdir: Path | None, problems: list[Problem]) -> Vocabulary:
    """The shipped vocabulary, then the bundle's own file adding to it (an office's overlay)."""
    shipped = _shipped_vocabulary_path()
    paths = [shipped]
    if rdir is not None:
        own = rdir / VOCABULARY_FILE
        if own.is_file() and own.resolve() != shipped.resolve():
            paths.append(own)
    sources = []
    for path in paths:
        if not path.is_file():
            problems.append(Problem("answers.missing", f"找不到回答词表 {path}", Position(str(path), 1, 1)))
            continue
        loc = _parse(AnswerVocabulary, path, problems)
        if loc is not None:
            sources.append((loc.model, loc))
    return build_vocabulary(sources, problems)


def example_dir() -> Path:
    data = _package_data()
    if data is not None:
        return data / "examples"
    return Path(__file__).resolve().parents[3] / "examples"


# --------------------------------------------------------------------------- parsing


def _parse(model: type[M], path: Path, problems: list[Problem]) -> Located | None:
    try:
        raw = load_yaml_file(path)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(raw, dict):
        problems.append(Problem("schema.root", "文件顶层必须是映射（键: 值）", Position(str(path), 1, 1)))
        return None
    if model is RuleFile and not _expand_definitions(raw, path, problems):
        return None
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, raw, path, model))
        return None
    return Located(parsed, raw, path)


def _expand_definitions(raw: dict[str, Any], path: Path, problems: list[Problem]) -> bool:
    """Replace every `{use: name}` with the named tree from `definitions` (shared, so an
    error inside it is reported at the definition's own line)."""
    defs = raw.get("definitions")
    defs = defs if isinstance(defs, dict) else {}
    found: list[Problem] = []

    def expand(node: Any, inside_definition: bool) -> Any:
        if isinstance(node, dict):
            if set(node) == {"use"}:
                pos = getattr(node, "pos", None) or Position(str(path), 1, 1)
                name = node["use"]
                if inside_definition:
                    found.append(Problem("rules.nested_use", "定义中不能再引用其他定义", pos))
                elif not isinstance(name, str) or name not in defs:
                    found.append(
                        Problem("rules.unknown_definition", f"未定义的条件 {name!r}", pos, suggest(str(name), set(defs)))
                    )
                else:
                    return defs[name]
                return node
            for key, value in node.items():
                node[key] = expand(value, inside_definition or (node is defs))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                node[i] = expand(value, inside_definition)
        return node

    expand(raw, False)
    problems.extend(found)
    return not found


def _validation_problems(exc: ValidationError, raw: Any, path: Path, model: type[BaseModel]) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        # pydantic puts discriminator tags ("leaf", "all", …) into locations; drop them for the walk.
        walk = _strip_tags(loc)
        pos = position_of(raw, walk, Position(str(path), 1, 1))
        hint = None
        if err["type"] == "extra_forbidden":
            key = loc[-1]
            hint = suggest(str(key), _known_keys(model))
            message = f"未知的键 {key!r}"
        elif err["type"] == "missing":
            message = f"缺少必填的键 {loc[-1]!r}"
        else:
            message = err["msg"]
        where = ".".join(str(s) for s in walk)
        out.append(Problem(f"schema.{err['type']}", f"{where}: {message}" if where else message, pos, hint))
    return out


_TAGS = {"all", "any", "not", "leaf", "AllOf", "AnyOf", "NotOf", "Leaf"}


def _strip_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for i, step in enumerate(loc):
        # A tag is followed by the same-named field for all/any/not; keep the field, drop the tag.
        if isinstance(step, str) and step in _TAGS:
            nxt = loc[i + 1] if i + 1 < len(loc) else None
            if step in ("all", "any", "not") and nxt == step:
                continue
            if step in ("leaf", "AllOf", "AnyOf", "NotOf", "Leaf"):
                continue
        if step == "not_":
            step = "not"
        out.append(step)
    return tuple(out)


def _known_keys(model: type[BaseModel]) -> list[str]:
    """Every field name of the model and its sub-models, for did-you-mean."""
    names: set[str] = set()
    stack: list[type[BaseModel]] = [model]
    seen: set[type] = set()
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        for name, f in m.model_fields.items():
            names.add(f.alias or name)
            for sub in _submodels(f.annotation):
                stack.append(sub)
    return sorted(names | set(COMPARISONS))


def _submodels(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _submodels(arg)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


# --------------------------------------------------------------------------- load


def load_bundle(criteria_dir: Path | str | None = None, rules_dir: Path | str | None = None) -> Bundle:
    """Load and cross-check a bundle; raise :class:`BundleError` on any error."""
    # Loading allocates tens of thousands of containers (parser nodes, raw trees, models)
    # that either stay in the bundle or die by reference count, with no cycles to find:
    # the collections they trigger only re-walk them (measured: ~18 of ~70 ms in a fresh
    # process). The collector's previous state is restored, whatever happens.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_bundle(criteria_dir, rules_dir)
    finally:
        if was_enabled:
            gc.enable()


def _load_bundle(criteria_dir: Path | str | None, rules_dir: Path | str | None) -> Bundle:
    default_criteria, default_rules = default_dirs()
    cdir = Path(criteria_dir) if criteria_dir is not None else default_criteria
    rdir = Path(rules_dir) if rules_dir is not None else default_rules
    problems: list[Problem] = []
    bundle = Bundle(cdir, rdir)
    for folder, label in ((cdir, "criteria"), (rdir, "rules")):
        if not folder.is_dir():
            problems.append(Problem("bundle.missing_dir", f"找不到 {label} 目录：{folder}"))
    if problems:
        raise BundleError(problems)

    # Content and place inside the bundle, not where the bundle sits on disk: the same
    # rules installed elsewhere must report the same fingerprint in their verdicts.
    digest = hashlib.sha256()
    for label, folder in (("criteria", cdir), ("rules", rdir)):
        for path in _yaml_files(folder):
            digest.update(f"{label}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    # Answers are read with the shipped vocabulary too: a changed phrase list changes verdicts.
    shipped_vocabulary = _shipped_vocabulary_path()
    if shipped_vocabulary.is_file():
        digest.update(b"shipped/answers.yaml\0" + shipped_vocabulary.read_bytes())
    bundle.fingerprint = digest.hexdigest()[:16]

    _load_criteria(bundle, cdir, problems)
    _load_rules_dir(bundle, rdir, problems)
    bundle.vocabulary = _load_vocabulary(rdir, problems)
    if not problems:
        _cross_check(bundle, problems)
        _check_observations(bundle, problems)
    errors = [p for p in problems if p.severity == "error"]
    bundle.warnings.extend(p for p in problems if p.severity != "error")
    if errors:
        raise BundleError(errors)
    return bundle


def _load_criteria(bundle: Bundle, cdir: Path, problems: list[Problem]) -> None:
    for path in _yaml_files(cdir):
        loc = _parse(CriteriaDocument, path, problems)
        if loc is None:
            continue
        doc: CriteriaDocument = loc.model
        if doc.key in bundle.documents:
            other = bundle.documents[doc.key].located.path
            problems.append(Problem("criteria.duplicate_version", f"{doc.key} 已在 {other} 中定义", loc.pos("version")))
            continue
        clauses = _index_clauses(loc, problems)
        bundle.documents[doc.key] = DocumentVersion(doc, loc, clauses)

    # A version said to be replaced must be one the bundle holds: a typo would leave the
    # history the verdicts and `diff` rely on pointing nowhere.
    for version in bundle.documents.values():
        for i, key in enumerate(version.doc.supersedes):
            if key not in bundle.documents:
                problems.append(
                    Problem(
                        "criteria.unknown_supersedes", f"supersedes 中的 {key} 不是 criteria 中的文件版本",
                        version.located.pos("supersedes", i), suggest(key, bundle.documents),
                    )
                )

    # Versions of one document must tile time: an overlap makes "the version in
    # force" ambiguous, and a gap is reported as a date with no version.
    by_doc: dict[str, list[DocumentVersion]] = {}
    for v in bundle.documents.values():
        by_doc.setdefault(v.doc.document, []).append(v)
    for versions in by_doc.values():
        versions.sort(key=lambda v: v.doc.effective)
        for a, b in zip(versions, versions[1:]):
            if a.doc.superseded is None or a.doc.superseded > b.doc.effective:
                problems.append(
                    Problem(
                        "criteria.overlap",
                        f"{a.key} 与 {b.key} 的有效期重叠（{a.key} 的 superseded 应不晚于 {b.doc.effective}）",
                        a.located.pos("superseded"),
                    )
                )
            elif a.doc.superseded < b.doc.effective:
                problems.append(
                    Problem(
                        "criteria.gap",
                        f"{a.key} 失效（{a.doc.superseded}）与 {b.key} 生效（{b.doc.effective}）之间有空档",
                        a.located.pos("superseded"),
                        severity="warning",
                    )
                )


def _index_clauses(loc: Located, problems: list[Problem]) -> dict[str, ClauseEntry]:
    """Flatten the clause tree by citation id, checking ids, nesting and sources on the way."""
    doc: CriteriaDocument = loc.model
    clauses: dict[str, ClauseEntry] = {}
    source_ids = {s.id for s in doc.sources}
    stack: list[tuple[Clause, str | None, tuple[Any, ...]]] = [
        (c, None, ("clauses", i)) for i, c in reversed(list(enumerate(doc.clauses)))
    ]
    while stack:
        clause, parent, here = stack.pop()
        pos = loc.pos(*here, "id")
        if clause.id in clauses:
            problems.append(Problem("criteria.duplicate_clause", f"条款编号 {clause.id} 重复", pos))
        if parent is not None and not clause.id.startswith(parent):
            problems.append(Problem("criteria.clause_nesting", f"条款 {clause.id} 的编号应以上级条款 {parent} 开头", pos))
        for s in clause.verification.sources:
            if s not in source_ids:
                problems.append(
                    Problem(
                        "criteria.unknown_source",
                        f"未在 sources 中声明的来源 {s!r}",
                        loc.pos(*here, "verification", "sources"),
                        suggest(s, source_ids),
                    )
                )
        clauses[clause.id] = ClauseEntry(clause, parent, pos)
        stack.extend((c, clause.id, here + ("clauses", i)) for i, c in reversed(list(enumerate(clause.clauses))))
    return clauses


def _load_rules_dir(bundle: Bundle, rdir: Path, problems: list[Problem]) -> None:
    for path in _yaml_files(rdir):
        rel = path.relative_to(rdir)
        if rel.as_posix() == VOCABULARY_FILE:
            continue  # read by _load_vocabulary, after the shipped one it adds to
        if rel.parts == (OBSERVATIONS_FILE,):
            bundle.observations = _parse(ObservationCatalogue, path, problems)
        elif rel.parts[0] == "facts":
            loc = _parse(FactFile, path, problems)
            if loc is None:
                continue
            for i, fact in enumerate(loc.model.facts):
                if fact.id in bundle.facts:
                    problems.append(
                        Problem("facts.duplicate", f"事实 {fact.id} 重复定义（首次：{bundle.fact_pos[fact.id]}）", loc.pos("facts", i, "id"))
                    )
                    continue
                bundle.facts[fact.id] = fact
                bundle.fact_pos[fact.id] = loc.pos("facts", i, "id")
            if loc.model.constraints:
                bundle.constraints.append(loc)
        elif len(rel.parts) < 2:
            problems.append(
                Problem("rules.layout", "规则文件应放在 rules/<行业>/ 或 rules/facts/ 下", Position(str(path), 1, 1))
            )
        elif path.stem == "sector":
            loc = _parse(Sector, path, problems)
            if loc is None:
                continue
            if loc.model.id != rel.parts[0]:
                problems.append(
                    Problem("sector.id", f"行业编号 {loc.model.id!r} 应与目录名 {rel.parts[0]!r} 一致", loc.pos("id"))
                )
            bundle.sectors[loc.model.id] = loc
        else:
            loc = _parse(RuleFile, path, problems)
            if loc is not None:
                bundle.rule_files.append(loc)


# --------------------------------------------------------------------------- cross-checks


def _cross_check(bundle: Bundle, problems: list[Problem]) -> None:
    for loc in bundle.constraints:
        for i, c in enumerate(loc.model.constraints):
            _check_condition(bundle, c.condition, loc, ("constraints", i, "condition"), problems)
            # A contradiction must stay one when more is answered (a part of consistent
            # answers is consistent); "answered" would let a further answer undo it.
            if any(leaf.op == "answered" for leaf in iter_leaves(c.condition)):
                problems.append(
                    Problem("facts.constraint_answered", "矛盾约束不能用 answered：只写相互矛盾的回答内容", loc.pos("constraints", i, "condition"))
                )
    for loc in bundle.sectors.values():
        sector: Sector = loc.model
        if not bundle.versions_of(sector.document):
            problems.append(
                Problem(
                    "sector.unknown_document",
                    f"criteria 中没有文件 {sector.document!r}",
                    loc.pos("document"),
                    suggest(sector.document, {v.doc.document for v in bundle.documents.values()}),
                )
            )
        _check_condition(bundle, sector.applies_when, loc, ("applies_when",), problems)

    for loc in bundle.rule_files:
        rf: RuleFile = loc.model
        sector_dir = loc.path.relative_to(bundle.rules_dir).parts[0]
        sector_loc = bundle.sectors.get(sector_dir)
        if sector_loc is None:
            problems.append(
                Problem("rules.no_sector", f"目录 {sector_dir!r} 缺少 sector.yaml", Position(str(loc.path), 1, 1))
            )
            continue
        if rf.document != sector_loc.model.document:
            problems.append(
                Problem(
                    "rules.wrong_document",
                    f"{sector_dir} 行业的规则只能编码 {sector_loc.model.document}，而不是 {rf.document}",
                    loc.pos("document"),
                )
            )
            continue
        key = f"{rf.document}@{rf.version}"
        version = bundle.documents.get(key)
        if version is None:
            problems.append(
                Problem(
                    "rules.unknown_version",
                    f"criteria 中没有 {key}",
                    loc.pos("version"),
                    suggest(rf.version, {v.doc.version for v in bundle.versions_of(rf.document)}),
                )
            )
            continue
        scope = scope_condition(sector_loc.model)
        for group in ("rules", "combinations", "exclusions"):
            for i, item in enumerate(getattr(rf, group)):
                src = RuleSource(item, loc, (group, i), sector_dir)
                if item.id in bundle.items:
                    problems.append(
                        Problem("rules.duplicate_id", f"规则编号 {item.id} 重复（首次：{bundle.items[item.id].pos('id')}）", src.pos("id"))
                    )
                    continue
                bundle.items[item.id] = src
                _check_cites(item.cites, version, src, ("cites",), problems)
                if isinstance(item, Rule):
                    if item.when is not None:
                        _check_condition(bundle, item.when, loc, (group, i, "when"), problems)
                    _check_condition(bundle, item.condition, loc, (group, i, "condition"), problems)
                    _check_combined_size(item, scope, src, problems)
                elif isinstance(item, Exclusion):
                    _check_condition(bundle, item.condition, loc, (group, i, "condition"), problems)
                else:
                    for k, variant in enumerate(item.variants):
                        if variant.when is not None:
                            _check_condition(bundle, variant.when, loc, (group, i, "variants", k, "when"), problems)
                        _check_cites(variant.cites, version, src, ("variants", k, "cites"), problems)
                _check_tests(item, src, problems)
        _check_references(rf, loc, problems)

    _report_gaps(bundle, problems)
    _report_unused_facts(bundle, problems)


def _check_combined_size(rule: Rule, scope: Condition, src: RuleSource, problems: list[Problem]) -> None:
    """The engine joins the sector's scope and a rule's `when` to its condition: the product
    must fit too, or the bundle would load and then fail to compile."""
    try:
        applies = true_dnf(AllOf(all=[scope] + ([rule.when] if rule.when is not None else [])))
        for branches in (true_dnf(rule.condition), false_dnf(rule.condition)):
            # Joining can only merge branches away: small products need no expanding.
            if len(applies) * len(branches) > MAX_JOINED:
                conjoin(applies, branches)
    except ConditionTooLarge as exc:
        problems.append(Problem("rules.too_large", f"{exc}（when 与 condition 合并后）", src.pos("condition")))


def _check_cites(
    cites: list[str], version: DocumentVersion, src: RuleSource, steps: tuple[Any, ...], problems: list[Problem]
) -> None:
    for j, clause in enumerate(cites):
        if clause not in version.clauses:
            problems.append(
                Problem(
                    "rules.unknown_clause",
                    f"{version.key} 中没有条款 {clause!r}",
                    src.pos(*steps, j),
                    suggest(clause, version.clauses),
                )
            )


def _check_references(rf: RuleFile, loc: Located, problems: list[Problem]) -> None:
    rule_ids = {r.id for r in rf.rules}
    for i, combo in enumerate(rf.combinations):
        for k, variant in enumerate(combo.variants):
            for j, element in enumerate(variant.elements):
                if element not in rule_ids:
                    problems.append(
                        Problem(
                            "rules.unknown_element",
                            f"组合 {combo.id} 的要素 {element!r} 不是本文件中的规则",
                            loc.pos("combinations", i, "variants", k, "elements", j),
                            suggest(element, rule_ids),
                        )
                    )
            if len(set(variant.elements)) != len(variant.elements):
                problems.append(
                    Problem("rules.duplicate_element", f"组合 {combo.id} 的 {variant.id} 中有重复要素", loc.pos("combinations", i, "variants", k, "elements"))
                )
    targets = rule_ids | {c.id for c in rf.combinations}
    for i, excl in enumerate(rf.exclusions):
        if excl.applies_to != "all":
            for j, target in enumerate(excl.applies_to):
                if target not in targets:
                    problems.append(
                        Problem(
                            "rules.unknown_target",
                            f"排除规则 {excl.id} 的对象 {target!r} 不在本文件中",
                            loc.pos("exclusions", i, "applies_to", j),
                            suggest(target, targets),
                        )
                    )


def _check_condition(bundle: Bundle, cond: Condition, loc: Located, steps: tuple[Any, ...], problems: list[Problem]) -> None:
    where = loc.pos(*steps)
    for leaf in iter_leaves(cond):
        fact = bundle.facts.get(leaf.fact)
        if fact is None:
            problems.append(
                Problem("rules.unknown_fact", f"未定义的事实 {leaf.fact!r}", where, suggest(leaf.fact, bundle.facts))
            )
            continue
        if leaf.op == "answered":
            if fact.type in (FactType.set, FactType.text):
                problems.append(Problem("rules.bad_operator", f"{fact.type.value} 类型的事实 {fact.id} 不能用 answered", where))
            elif not isinstance(leaf.value, bool):
                problems.append(Problem("rules.bad_value", f"answered 的值必须是 true/false，而不是 {leaf.value!r}", where))
            continue
        allowed = _OPS_BY_TYPE[fact.type]
        if leaf.op not in allowed:
            problems.append(
                Problem(
                    "rules.bad_operator",
                    f"{fact.type.value} 类型的事实 {fact.id} 不能用 {leaf.op} 比较" + (f"（可用：{'、'.join(sorted(allowed))}）" if allowed else "（文本只用于展示）"),
                    where,
                )
            )
            continue
        if isinstance(leaf.value, FactRef):
            other = bundle.facts.get(leaf.value.fact)
            if other is None:
                problems.append(
                    Problem("rules.unknown_fact", f"未定义的事实 {leaf.value.fact!r}", where, suggest(leaf.value.fact, bundle.facts))
                )
            elif other.type not in (FactType.integer, FactType.number) or fact.type not in (FactType.integer, FactType.number):
                problems.append(Problem("rules.bad_reference", "只有数值事实之间可以相互比较", where))
            elif other.unit != fact.unit:
                problems.append(
                    Problem("rules.unit_mismatch", f"{fact.id}（{fact.unit}）与 {other.id}（{other.unit}）单位不同", where)
                )
            continue
        values = leaf.value if isinstance(leaf.value, list) else [leaf.value]
        if leaf.op in ("in", "not_in") and not isinstance(leaf.value, list):
            problems.append(Problem("rules.bad_value", f"{leaf.op} 需要一个列表", where))
            continue
        for v in values:
            problem = _literal_problem(fact, v)
            if problem:
                problems.append(Problem("rules.bad_value", problem, where, suggest(str(v), fact.values or {})))
    try:
        true_dnf(cond)
        false_dnf(cond)
    except ConditionTooLarge as exc:
        problems.append(Problem("rules.too_large", str(exc), where))
        return
    # "answered" only chooses which record decides; a branch made of nothing else would
    # decide from unanswered questions, against "unknown is neither safe nor a violation".
    for branch in unguarded_branches(cond):
        shown = "、".join(f"{a.fact}{'已回答' if a.op == 'present' else '未回答'}" for a in branch)
        problems.append(Problem("rules.unguarded_answered", f"条件的一个分支只看问题是否回答（{shown}），没有读取任何回答的内容", where))


def _literal_problem(fact: FactDef, v: Any) -> str | None:
    t = fact.type
    if t is FactType.boolean and not isinstance(v, bool):
        return f"{fact.id} 是是非题，比较值必须是 true/false，而不是 {v!r}"
    if t in (FactType.integer, FactType.number) and (isinstance(v, bool) or not isinstance(v, (int, float))):
        return f"{fact.id} 是数值，比较值必须是数字，而不是 {v!r}"
    if t is FactType.date and not isinstance(v, dt.date):
        return f"{fact.id} 是日期，比较值必须是日期，而不是 {v!r}"
    if t in (FactType.enum, FactType.set) and v not in (fact.values or {}):
        return f"{v!r} 不是 {fact.id} 的可选值（{'、'.join(fact.values or {})}）"
    return None


def _check_tests(item: Rule | Combination | Exclusion, src: RuleSource, problems: list[Problem]) -> None:
    expected = {t.expect for t in item.tests}
    if isinstance(item, Exclusion):
        need = {Outcome.triggered, Outcome.not_triggered}
    elif isinstance(item, Combination) and item.partial:
        # Never "not triggered" by design; its negative case is the undetermined one.
        need = {Outcome.triggered, Outcome.undetermined}
    else:
        need = {Outcome.triggered, Outcome.not_triggered, Outcome.undetermined}
    missing = need - expected
    if missing:
        names = "、".join(sorted(m.value for m in missing))
        problems.append(
            Problem("rules.missing_tests", f"{item.id} 缺少测试用例：{names}", src.pos("tests") or src.pos("id"))
        )


def _report_gaps(bundle: Bundle, problems: list[Problem]) -> None:
    cited: dict[str, set[str]] = {}
    for src in bundle.items.values():
        key = f"{src.file.model.document}@{src.file.model.version}"
        cited.setdefault(key, set()).update(src.item.cites)
    for key, version in bundle.documents.items():
        for part in version.doc.unread_parts:
            problems.append(
                Problem("coverage.unread", f"{key} 尚未取得条文：{part}", version.located.pos("unread_parts"), severity="warning")
            )
        for cid, entry in version.clauses.items():
            if not entry.clause.decides:
                continue
            if cid not in cited.get(key, set()):
                problems.append(
                    Problem("coverage.not_encoded", f"{key} 的判定条款 {cid} 尚无规则编码", entry.position, severity="warning")
                )
            status = entry.clause.verification.status
            if status != "verified":
                label = "仅有单一来源" if status == "single_source" else "未经原文核验"
                problems.append(
                    Problem(
                        f"coverage.{status}",
                        f"{key} 的条款 {cid} {label}（{entry.clause.verification.note or '无说明'}）",
                        entry.position,
                        severity="warning",
                    )
                )


def _report_unused_facts(bundle: Bundle, problems: list[Problem]) -> None:
    used: set[str] = set()
    conditions: list[Condition | None] = [s.model.applies_when for s in bundle.sectors.values()]
    for src in bundle.items.values():
        item = src.item
        if isinstance(item, Rule):
            conditions += [item.when, item.condition]
            used.update(PLACEHOLDER.findall(item.finding))
        elif isinstance(item, Exclusion):
            conditions.append(item.condition)
        else:
            conditions += [v.when for v in item.variants]
    for loc in bundle.constraints:
        conditions += [c.condition for c in loc.model.constraints]
    for cond in conditions:
        used.update(referenced_facts(cond))
    for fid in bundle.facts:
        if fid not in used:
            problems.append(Problem("facts.unused", f"事实 {fid} 未被任何规则使用", bundle.fact_pos[fid], severity="warning"))
    for src in bundle.items.values():
        item = src.item
        if isinstance(item, Rule):
            for name in PLACEHOLDER.findall(item.finding):
                if name not in bundle.facts:
                    problems.append(
                        Problem("rules.unknown_placeholder", f"结论文字中的 {{{name}}} 不是已定义的事实", src.pos("finding"), suggest(name, bundle.facts))
                    )


# --------------------------------------------------------------------------- observation catalogue

OBSERVATIONS_FILE = "observations.yaml"


def _check_observations(bundle: Bundle, problems: list[Problem]) -> None:
    """Each mapping must name a question some rule really reads under the clause it cites.

    A catalogue entry saying "covered by fact F under clause C" is only true when a rule of
    that document version cites C and its condition or applicability reads F; anything
    else would send the inspector to a question that cannot decide the observation.
    """
    loc = bundle.observations
    if loc is None:
        return
    seen: dict[str, Position | None] = {}
    phrases: dict[str, str] = {}
    for i, obs in enumerate(loc.model.observations):
        here = ("observations", i)
        if obs.id in seen:
            problems.append(Problem("observations.duplicate", f"情形编号 {obs.id} 重复（首次：{seen[obs.id]}）", loc.pos(*here, "id")))
        seen[obs.id] = loc.pos(*here, "id")
        if obs.sector not in bundle.sectors:
            problems.append(
                Problem("observations.unknown_sector", f"未知的行业 {obs.sector!r}", loc.pos(*here, "sector"), suggest(obs.sector, bundle.sectors))
            )
        for k, phrase in enumerate(obs.match):
            if phrase in phrases and phrases[phrase] != obs.id:
                problems.append(
                    Problem("observations.ambiguous_phrase", f"匹配词“{phrase}”同时属于 {phrases[phrase]} 和 {obs.id}", loc.pos(*here, "match", k))
                )
            phrases.setdefault(phrase, obs.id)
        for j, cov in enumerate(obs.covered_by):
            at = (*here, "covered_by", j)
            if cov.fact not in bundle.facts:
                problems.append(
                    Problem("observations.unknown_fact", f"未定义的问题 {cov.fact!r}", loc.pos(*at, "fact"), suggest(cov.fact, bundle.facts))
                )
                continue
            version = bundle.documents.get(cov.document)
            if version is None:
                problems.append(
                    Problem(
                        "observations.unknown_document",
                        f"criteria 中没有 {cov.document!r}（写成 文件@版本）",
                        loc.pos(*at, "document"),
                        suggest(cov.document, bundle.documents),
                    )
                )
                continue
            if cov.clause not in version.clauses:
                problems.append(
                    Problem(
                        "observations.unknown_clause",
                        f"{cov.document} 中没有条款 {cov.clause!r}",
                        loc.pos(*at, "clause"),
                        suggest(cov.clause, version.clauses),
                    )
                )
                continue
            if not any(
                cov.clause in src.item.cites and cov.fact in _facts_read(src.item) for src in bundle.items_of(cov.document)
            ):
                problems.append(
                    Problem(
                        "observations.not_decided",
                        f"{cov.document} 中没有引用 {cov.clause} 并读取问题 {cov.fact} 的规则：该问题不能判定这一情形",
                        loc.pos(*at, "fact"),
                    )
                )


def _facts_read(item: Rule | Combination | Exclusion) -> set[str]:
    out: set[str] = set()
    for name in ("when", "condition"):
        cond = getattr(item, name, None)
        if cond is not None:
            out.update(referenced_facts(cond))
    return out
