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
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from hazardjudge.engine import cache as bundle_cache
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
    RULE_ID_MAX,
    RULE_ID_PATTERN,
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
    OverlayManifest,
    ReplacementRef,
    Rule,
    RuleFile,
    Sector,
)
from hazardjudge.engine.vocabulary import Vocabulary
from hazardjudge.engine.vocabulary import build as build_vocabulary
from hazardjudge.engine.yamlio import entries_of, joined_list, load_yaml_file, position_of, with_values
from hazardjudge.errors import BundleError, InputError, Position, Problem, suggest, validation_message_zh

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


#: the layer id of the criteria shipped with the package, and of any other base bundle
SHIPPED_LAYER, BASE_LAYER = "shipped", "base"
#: the manifest at the top of an overlay folder
OVERLAY_FILE = "overlay.yaml"


@dataclass(frozen=True)
class Layer:
    """One layer of a bundle: the base criteria and rules, or an overlay folder on top of them."""

    id: str
    title: str
    criteria_dir: Path
    rules_dir: Path
    overlay: bool = False
    example: bool = False
    root: Path | None = None  # the overlay folder itself (None for the base)


@dataclass
class Located:
    """A parsed model with the raw mapping it came from, to place later problems."""

    model: Any
    raw: Any
    path: Path
    layer: str = SHIPPED_LAYER
    # A file that extends another version (``extends:``): the files it inherits from, in
    # order, and for a rule file each inherited item's new id → its id in the base file.
    bases: tuple[Path, ...] = ()
    inherited: dict[str, str] = field(default_factory=dict)

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
    # Base first, then each overlay in the order given; an item's Located.layer names one.
    layers: list[Layer] = field(default_factory=list)
    # Every item an overlay replaces on purpose (``replaces:``), shown in each verdict.
    replacements: list[ReplacementRef] = field(default_factory=list)
    fact_layer: dict[str, str] = field(default_factory=dict)
    # Set when the bundle is in the bundle cache: its compiled versions are cached under it too.
    cache_key: str | None = None

    @property
    def overlay_dirs(self) -> tuple[Path, ...]:
        """The overlay folders, in order: ``load_bundle(criteria_dir, rules_dir, overlay_dirs)`` loads this bundle again."""
        return tuple(layer.root for layer in self.layers if layer.root is not None)

    def layer(self, layer_id: str) -> Layer:
        return next(layer for layer in self.layers if layer.id == layer_id)

    def encoded(self, doc_key: str) -> bool:
        """Whether any rule, combination or exclusion encodes the version (False: identity only)."""
        return any(f"{s.file.model.document}@{s.file.model.version}" == doc_key for s in self.items.values())

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
    vocab = _load_vocabulary([], problems)
    if problems:
        raise BundleError(problems)
    return vocab


def _load_vocabulary(rdirs: list[Path], problems: list[Problem]) -> Vocabulary:
    """The shipped vocabulary, then each layer's own file adding to it (the base's, each overlay's)."""
    shipped = _shipped_vocabulary_path()
    paths = [shipped]
    for rdir in rdirs:
        own = rdir / VOCABULARY_FILE
        if own.is_file() and own.resolve() not in {p.resolve() for p in paths}:
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


def _parse(
    model: type[M], path: Path, problems: list[Problem], layer: str = SHIPPED_LAYER, failed: set[str] | None = None
) -> Located | None:
    """The file validated as ``model``; None (problems recorded) if it is not.

    ``failed`` collects the document@version a refused file says it is, so a version
    extending it is not also told its base does not exist.
    """
    try:
        raw = load_yaml_file(path)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(raw, dict):
        problems.append(Problem("schema.root", "文件顶层必须是映射（键: 值）", Position(str(path), 1, 1)))
        return None
    ok = model is not RuleFile or _expand_definitions(raw, path, problems)
    if ok:
        try:
            return Located(model.model_validate(raw), raw, path, layer)
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, raw, path, model))
    if failed is not None and isinstance(raw.get("document"), str) and isinstance(raw.get("version"), str):
        failed.add(f"{raw['document']}@{raw['version']}")
    return None


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
            message = validation_message_zh(err)
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


def load_bundle(
    criteria_dir: Path | str | None = None,
    rules_dir: Path | str | None = None,
    overlays: Sequence[Path | str] = (),
) -> Bundle:
    """Load and cross-check a bundle, each overlay folder on top in order; raise :class:`BundleError` on any error."""
    # Loading allocates tens of thousands of containers (parser nodes, raw trees, models)
    # that either stay in the bundle or die by reference count, with no cycles to find:
    # the collections they trigger only re-walk them (measured: ~18 of ~70 ms in a fresh
    # process). The collector's previous state is restored, whatever happens.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_bundle(criteria_dir, rules_dir, [Path(o) for o in overlays])
    finally:
        if was_enabled:
            gc.enable()


def _load_bundle(criteria_dir: Path | str | None, rules_dir: Path | str | None, overlays: list[Path]) -> Bundle:
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
    shipped = cdir.resolve() == default_criteria.resolve() and rdir.resolve() == default_rules.resolve()
    base = Layer(SHIPPED_LAYER if shipped else BASE_LAYER, "随附判定标准" if shipped else f"规则包 {rdir.resolve().parent.name}", cdir, rdir)
    bundle.layers.append(base)
    overlay_layers = _overlay_layers(overlays, bundle, problems)
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
    # Each overlay changes verdicts too: its manifest and files, in layer order.
    for layer in overlay_layers:
        digest.update(f"overlay:{layer.id}\0".encode() + (layer.root / OVERLAY_FILE).read_bytes())
        for label, folder in (("criteria", layer.criteria_dir), ("rules", layer.rules_dir)):
            for path in _yaml_files(folder) if folder.is_dir() else ():
                digest.update(f"overlay:{layer.id}/{label}/{path.relative_to(folder).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    bundle.fingerprint = digest.hexdigest()[:16]
    cache_key = bundle_cache.key(bundle.fingerprint, [cdir, rdir, *(layer.root for layer in overlay_layers)])
    if (cached := bundle_cache.get(cache_key)) is not None:
        cached.cache_key = cache_key
        return cached

    for layer in bundle.layers:
        if layer.criteria_dir.is_dir():
            _load_criteria(bundle, layer.criteria_dir, problems, layer)
    _check_tiling(bundle, problems)
    for layer in bundle.layers:
        if layer.rules_dir.is_dir():
            _load_rules_dir(bundle, layer.rules_dir, problems, layer)
    bundle.vocabulary = _load_vocabulary([layer.rules_dir for layer in bundle.layers], problems)
    if not problems:
        _cross_check(bundle, problems)
        _check_observations(bundle, problems)
    # An inherited item is checked under each version that carries it: a flaw of the base's
    # own text would otherwise be listed once per version, at the same line.
    problems = list(dict.fromkeys(problems))
    errors = [p for p in problems if p.severity == "error"]
    bundle.warnings.extend(p for p in problems if p.severity != "error")
    if errors:
        raise BundleError(errors)
    if bundle_cache.put(cache_key, bundle):
        bundle.cache_key = cache_key
    return bundle


def _overlay_layers(overlays: list[Path], bundle: Bundle, problems: list[Problem]) -> list[Layer]:
    """Each overlay folder's manifest read into a Layer (appended to the bundle's layers)."""
    layers = []
    for root in overlays:
        manifest = root / OVERLAY_FILE
        if not root.is_dir():
            problems.append(Problem("overlay.missing_dir", f"找不到叠加层目录：{root}"))
            continue
        if not manifest.is_file():
            problems.append(
                Problem("overlay.manifest", f"{root} 不是叠加层：缺少 {OVERLAY_FILE}（写明 schema、id 和 title）", Position(str(manifest), 1, 1))
            )
            continue
        loc = _parse(OverlayManifest, manifest, problems)
        if loc is None:
            continue
        m: OverlayManifest = loc.model
        if any(layer.id == m.id for layer in bundle.layers):
            problems.append(Problem("overlay.duplicate_id", f"叠加层编号 {m.id!r} 已被使用（每层须有不同的 id）", loc.pos("id")))
            continue
        layer = Layer(m.id, m.title, root / "criteria", root / "rules", overlay=True, example=m.example, root=root)
        if not layer.criteria_dir.is_dir() and not layer.rules_dir.is_dir():
            problems.append(Problem("overlay.empty", f"叠加层 {root} 中既没有 criteria/ 也没有 rules/", loc.pos("id")))
            continue
        bundle.layers.append(layer)
        layers.append(layer)
    return layers


def _replacing(
    what: str,
    item_id: str,
    replaces: Any,
    new_layer: Layer,
    old_layer: str | None,
    where: Position | None,
    bundle: Bundle,
    problems: list[Problem],
) -> bool | None:
    """Whether an item may take the place of (True) or join (False) what lower layers define.

    An id a lower layer already uses is an error unless the item says ``replaces:`` with its
    reason; ``replaces:`` on an item with nothing to replace, or outside an overlay, is one too.
    None: refused (a problem is recorded).
    """
    if old_layer is None:
        if replaces is not None:
            problems.append(Problem("overlay.replaces_nothing", f"{item_id} 写了 replaces，但下层没有同编号的内容可替换", where))
            return None
        return False
    if old_layer == new_layer.id or not new_layer.overlay:
        return None  # a duplicate inside one layer: the caller reports it as before
    if replaces is None:
        problems.append(
            Problem(
                "overlay.conflict",
                f"{item_id} 已由 {old_layer} 层定义：叠加层不能悄悄改动下层的内容",
                where,
                "确需替换时写 replaces: {reason: 替换理由}；否则换一个编号",
            )
        )
        return None
    bundle.replacements.append(
        ReplacementRef(what=what, id=item_id, layer=new_layer.id, replaced_layer=old_layer, reason=replaces.reason)
    )
    return True


def _load_criteria(bundle: Bundle, cdir: Path, problems: list[Problem], layer: Layer) -> None:
    failed: set[str] = set()
    parsed = [loc for path in _yaml_files(cdir) if (loc := _parse(CriteriaDocument, path, problems, layer.id, failed))]
    # Every file of the layer is read before any is registered: a version may extend one
    # whose file sorts after its own.
    assembled = _assemble_criteria(bundle, parsed, failed, problems)
    for own in parsed:
        loc = assembled.get(id(own))
        if loc is None:
            continue
        doc: CriteriaDocument = loc.model
        old = bundle.documents.get(doc.key)
        how = _replacing("document", doc.key, doc.replaces, layer, old.located.layer if old else None, loc.pos("version"), bundle, problems)
        if how is None:
            if old is not None and (old.located.layer == layer.id or not layer.overlay):
                problems.append(Problem("criteria.duplicate_version", f"{doc.key} 已在 {old.located.path} 中定义", loc.pos("version")))
            continue
        clauses = _index_clauses(loc, problems)
        known = {src.id for src in doc.sources}
        for sid in doc.identity.sources if doc.identity else ():
            if sid not in known:
                problems.append(
                    Problem("criteria.unknown_source", f"未在 sources 中声明的来源 {sid!r}", loc.pos("identity", "sources"), suggest(sid, known))
                )
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


# --------------------------------------------------------------------------- inheritance between versions
# A version may declare `extends:` to carry an earlier version's clauses (criteria) or rules
# (rule files) instead of copying them. The base is looked up in the same layer first, then in
# the layers below, and is assembled first (so chains work); the assembled version is then
# loaded and checked exactly as if its file held everything. Assembly happens as its layer is
# loaded: an overlay that later replaces the base does not change what the inheritor carries.


def _extends_chain(chain: list[str], key: str) -> str:
    return " → ".join([*chain, key])


def _assemble_criteria(
    bundle: Bundle, parsed: list[Located], failed: set[str], problems: list[Problem]
) -> dict[int, Located | None]:
    """Each parsed file (by id) as loaded: itself, assembled with its base, or None (refused)."""
    local: dict[str, Located] = {}
    for loc in parsed:
        local.setdefault(loc.model.key, loc)
    done: dict[int, Located | None] = {}

    def resolve(loc: Located, chain: list[str]) -> Located | None:
        if id(loc) in done:
            return done[id(loc)]
        doc: CriteriaDocument = loc.model
        ext = doc.extends
        if ext is None:
            done[id(loc)] = loc
            return loc
        base_key = f"{doc.document}@{ext.version}"
        where = loc.pos("extends", "version")
        result: Located | None = None
        if base_key == doc.key or base_key in chain:
            problems.append(
                Problem("criteria.extends_cycle", f"extends 形成循环：{_extends_chain([*chain, doc.key], base_key)}", where)
            )
        else:
            if base_key in local:
                base = resolve(local[base_key], [*chain, doc.key])
            elif base_key in bundle.documents:
                base = bundle.documents[base_key].located
            else:
                base = None
                if base_key not in failed:  # a refused base has its own problems already
                    known = {loc.model.version for loc in parsed if loc.model.document == doc.document}
                    known |= {v.doc.version for v in bundle.versions_of(doc.document)}
                    problems.append(
                        Problem(
                            "criteria.extends_unknown",
                            f"extends 指向的 {base_key} 不在 criteria 中（只能继承同一文件的其他版本）",
                            where,
                            f"{doc.document} 的其他版本：{'、'.join(sorted(known - {doc.version}))}" if known - {doc.version} else None,
                        )
                    )
            if base is not None:
                result = _inherit_clauses(loc, base, problems)
        done[id(loc)] = result
        return result

    for loc in parsed:
        resolve(loc, [])
    return done


def _flat_clauses(clauses: list[Clause]) -> Iterable[Clause]:
    for c in clauses:
        yield c
        yield from _flat_clauses(c.clauses)


def _inherit_clauses(loc: Located, base: Located, problems: list[Problem]) -> Located | None:
    """The version ``loc`` with ``base``'s clauses, sources and recorded gaps before its own."""
    doc: CriteriaDocument = loc.model
    bdoc: CriteriaDocument = base.model
    ext = doc.extends
    assert ext is not None
    ok = True
    if bdoc.effective >= doc.effective:
        problems.append(
            Problem(
                "criteria.extends_later",
                f"{doc.key} 只能继承同一文件较早施行的版本；{bdoc.key} 自 {bdoc.effective} 施行，不早于本版本（{doc.effective}）",
                loc.pos("extends", "version"),
            )
        )
        ok = False
    base_ids = {c.id for c in _flat_clauses(bdoc.clauses)}
    own_top = {c.id: i for i, c in enumerate(doc.clauses)}
    overrides = set(ext.overrides)
    for j, cid in enumerate(ext.overrides):
        if cid not in base_ids:
            problems.append(
                Problem(
                    "criteria.extends_override_unknown",
                    f"overrides 中的 {cid!r} 不是 {bdoc.key} 的条款，无可改写",
                    loc.pos("extends", "overrides", j),
                    suggest(cid, base_ids),
                )
            )
            ok = False
        elif cid not in own_top:
            problems.append(
                Problem(
                    "criteria.extends_override_missing",
                    f"overrides 列出了条款 {cid}，但本文件 clauses 的顶层没有写出它",
                    loc.pos("extends", "overrides", j),
                )
            )
            ok = False
    # Ids the assembled version keeps from the base: all but those inside a rewritten subtree.
    replaced = {c.id for top in bdoc.clauses for c in _subtrees(top, overrides)}
    kept = base_ids - replaced
    stack: list[tuple[Clause, tuple[Any, ...]]] = [(c, ("clauses", i)) for i, c in enumerate(doc.clauses)]
    while stack:
        c, here = stack.pop()
        if c.id in kept:
            problems.append(
                Problem(
                    "criteria.inherited_clause",
                    f"条款 {c.id} 已从 {bdoc.key}（{base.path}）继承",
                    loc.pos(*here, "id"),
                    "要改写该条款，在 extends.overrides 中列出它并在 clauses 顶层写出；否则删去这一份",
                )
            )
            ok = False
        stack.extend((sub, (*here, "clauses", k)) for k, sub in enumerate(c.clauses))
    base_sources = {s.id for s in bdoc.sources}
    for i, src in enumerate(doc.sources):
        if src.id in base_sources:
            problems.append(
                Problem(
                    "criteria.inherited_source",
                    f"来源 {src.id} 已从 {bdoc.key} 继承，不必再写（或换一个编号）",
                    loc.pos("sources", i, "id"),
                )
            )
            ok = False
    if not ok:
        return None

    own_entries = entries_of(loc.raw.get("clauses"))
    rewrites = {doc.clauses[i].id: (doc.clauses[i], own_entries[i]) for i in (own_top[c] for c in overrides)}
    base_models, base_entries = _replace_clauses(bdoc.clauses, entries_of(base.raw.get("clauses")), rewrites)
    added = [(c, e) for c, e in zip(doc.clauses, own_entries) if c.id not in overrides]
    clauses = base_models + [c for c, _ in added]
    raw_clauses = joined_list(base_entries + [e for _, e in added], loc.raw.get("clauses"))

    def gaps(name: str) -> tuple[list[str], Any]:
        values = list(dict.fromkeys([*getattr(bdoc, name), *getattr(doc, name)]))
        entries = entries_of(base.raw.get(name)) + entries_of(loc.raw.get(name))
        seen: set[str] = set()
        kept_entries = [e for e in entries if not (e[0] in seen or seen.add(e[0]))]
        return values, joined_list(kept_entries, loc.raw.get(name))

    unread, raw_unread = gaps("unread_parts")
    not_encoded, raw_not_encoded = gaps("not_encoded")
    model = doc.model_copy(
        update={
            "clauses": clauses,
            "sources": [*bdoc.sources, *doc.sources],
            "unread_parts": unread,
            "not_encoded": not_encoded,
        }
    )
    raw = with_values(
        loc.raw,
        {
            "clauses": raw_clauses,
            "sources": joined_list(entries_of(base.raw.get("sources")) + entries_of(loc.raw.get("sources")), loc.raw.get("sources")),
            "unread_parts": raw_unread,
            "not_encoded": raw_not_encoded,
        },
    )
    return Located(model, raw, loc.path, loc.layer, bases=(*base.bases, base.path))


def _subtrees(clause: Clause, ids: set[str]) -> Iterable[Clause]:
    """Every clause inside (and including) those of ``clause``'s tree whose id is in ``ids``."""
    if clause.id in ids:
        yield from _flat_clauses([clause])
    else:
        for c in clause.clauses:
            yield from _subtrees(c, ids)


def _replace_clauses(
    clauses: list[Clause], entries: list[tuple[Any, Any]], rewrites: dict[str, tuple[Clause, tuple[Any, Any]]]
) -> tuple[list[Clause], list[tuple[Any, Any]]]:
    """The base's clause list (models and raw entries) with each rewritten clause put in place."""
    models, out = [], []
    for clause, entry in zip(clauses, entries):
        if clause.id in rewrites:
            new, new_entry = rewrites[clause.id]
            models.append(new)
            out.append(new_entry)
            continue
        if clause.clauses and any(True for _ in _subtrees(clause, set(rewrites))):
            raw = entry[0]
            sub_models, sub_entries = _replace_clauses(clause.clauses, entries_of(raw.get("clauses")), rewrites)
            clause = clause.model_copy(update={"clauses": sub_models})
            entry = (with_values(raw, {"clauses": joined_list(sub_entries, raw.get("clauses"))}), entry[1])
        models.append(clause)
        out.append(entry)
    return models, out


def _check_tiling(bundle: Bundle, problems: list[Problem]) -> None:
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
    for v in bundle.documents.values():
        ref = v.doc.provisional_reference
        if ref is None:
            continue
        earlier = bundle.documents.get(f"{v.doc.document}@{ref.version}")
        if earlier is None or earlier.doc.effective >= v.doc.effective:
            problems.append(
                Problem(
                    "criteria.reference",
                    f"{v.key} 的 provisional_reference 应指向同一文件的较早版本，{v.doc.document}@{ref.version} 不是",
                    v.located.pos("provisional_reference", "version"),
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


def _load_rules_dir(bundle: Bundle, rdir: Path, problems: list[Problem], layer: Layer) -> None:
    rule_files: list[Located] = []
    failed: set[str] = set()
    for path in _yaml_files(rdir):
        rel = path.relative_to(rdir)
        if rel.as_posix() == VOCABULARY_FILE:
            continue  # read by _load_vocabulary, after the shipped one it adds to
        if rel.parts == (OBSERVATIONS_FILE,):
            if layer.overlay:
                problems.append(
                    Problem("overlay.observations", "叠加层不能替换或增加一般隐患目录（observations.yaml）：请向随附规则包提出", Position(str(path), 1, 1))
                )
                continue
            bundle.observations = _parse(ObservationCatalogue, path, problems, layer.id)
        elif rel.parts[0] == "facts":
            loc = _parse(FactFile, path, problems, layer.id)
            if loc is None:
                continue
            for i, fact in enumerate(loc.model.facts):
                where = loc.pos("facts", i, "id")
                old = bundle.fact_layer.get(fact.id)
                how = _replacing("fact", fact.id, fact.replaces, layer, old, where, bundle, problems)
                if how is None:
                    if old == layer.id or (old is not None and not layer.overlay):
                        problems.append(Problem("facts.duplicate", f"事实 {fact.id} 重复定义（首次：{bundle.fact_pos[fact.id]}）", where))
                    continue
                bundle.facts[fact.id] = fact
                bundle.fact_pos[fact.id] = where
                bundle.fact_layer[fact.id] = layer.id
            if loc.model.constraints:
                bundle.constraints.append(loc)
        elif len(rel.parts) < 2:
            problems.append(
                Problem("rules.layout", "规则文件应放在 rules/<行业>/ 或 rules/facts/ 下", Position(str(path), 1, 1))
            )
        elif path.stem == "sector":
            loc = _parse(Sector, path, problems, layer.id)
            if loc is None:
                continue
            if loc.model.id != rel.parts[0]:
                problems.append(
                    Problem("sector.id", f"行业编号 {loc.model.id!r} 应与目录名 {rel.parts[0]!r} 一致", loc.pos("id"))
                )
            old = bundle.sectors.get(loc.model.id)
            if _replacing("sector", loc.model.id, loc.model.replaces, layer, old.layer if old else None, loc.pos("id"), bundle, problems) is None:
                continue
            bundle.sectors[loc.model.id] = loc
        else:
            loc = _parse(RuleFile, path, problems, layer.id, failed)
            if loc is not None:
                rule_files.append(loc)
    # As for criteria: a rule file may extend one that sorts after it.
    assembled = _assemble_rules(bundle, rule_files, failed, problems)
    bundle.rule_files.extend(loc for own in rule_files if (loc := assembled.get(id(own))) is not None)


_GROUPS = ("rules", "combinations", "exclusions")
_RULE_ID = re.compile(RULE_ID_PATTERN)


def _assemble_rules(
    bundle: Bundle, parsed: list[Located], failed: set[str], problems: list[Problem]
) -> dict[int, Located | None]:
    """Each parsed rule file (by id) as loaded: itself, assembled with its bases, or None (refused)."""
    done: dict[int, Located | None] = {}
    extended: dict[tuple[str, str], Located] = {}  # (inheriting version, base version) → the file that says so

    def key_of(loc: Located) -> str:
        return f"{loc.model.document}@{loc.model.version}"

    def resolve(loc: Located, chain: list[str]) -> Located | None:
        if id(loc) in done:
            return done[id(loc)]
        rf: RuleFile = loc.model
        ext = rf.extends
        if ext is None:
            done[id(loc)] = loc
            return loc
        own_key, base_key = key_of(loc), f"{rf.document}@{ext.version}"
        where = loc.pos("extends", "version")
        done[id(loc)] = None
        if base_key == own_key or base_key in chain:
            problems.append(Problem("rules.extends_cycle", f"extends 形成循环：{_extends_chain([*chain, own_key], base_key)}", where))
            return None
        first = extended.setdefault((own_key, base_key), loc)
        if first is not loc:
            problems.append(
                Problem("rules.extends_twice", f"{own_key} 已在 {first.path} 中继承 {base_key} 的规则，不能再继承一次", where)
            )
            return None
        if base_key in failed:
            return None  # a refused base file has its own problems already
        bases: list[Located] = [f for f in bundle.rule_files if key_of(f) == base_key]
        for other in parsed:
            if key_of(other) == base_key:
                got = resolve(other, [*chain, own_key])
                if got is None:
                    return None
                bases.append(got)
        if not bases:
            known = {f.model.version for f in [*bundle.rule_files, *parsed] if f.model.document == rf.document}
            problems.append(
                Problem(
                    "rules.extends_unknown",
                    f"没有编码 {base_key} 的规则文件可继承（只能继承同一文件其他版本的规则）",
                    where,
                    f"有规则文件的其他版本：{'、'.join(sorted(known - {rf.version}))}" if known - {rf.version} else None,
                )
            )
            return None
        old_version, new_version = bundle.documents.get(base_key), bundle.documents.get(own_key)
        if old_version is not None and new_version is not None and old_version.doc.effective >= new_version.doc.effective:
            problems.append(
                Problem(
                    "rules.extends_later",
                    f"{own_key} 只能继承同一文件较早施行的版本的规则；{base_key} 自 {old_version.doc.effective} 施行",
                    where,
                )
            )
            return None
        done[id(loc)] = _inherit_rules(loc, bases, problems)
        return done[id(loc)]

    for loc in parsed:
        resolve(loc, [])
    return done


def _inherit_rules(loc: Located, bases: list[Located], problems: list[Problem]) -> Located | None:
    """The rule file ``loc`` with every item of ``bases`` (renamed by ``extends.ids``) before its own."""
    rf: RuleFile = loc.model
    ext = rf.extends
    assert ext is not None
    old, new = ext.ids.from_, ext.ids.to
    rename: dict[str, str] = {}
    ok = True
    for base in bases:
        for group in _GROUPS:
            for i, item in enumerate(getattr(base.model, group)):
                if not item.id.startswith(old):
                    problems.append(
                        Problem(
                            "rules.extends_prefix",
                            f"{item.id} 不以 {old!r} 开头，{loc.path.name} 的 extends.ids 无法为它改编号",
                            base.pos(group, i, "id"),
                            f"继承的文件：{loc.path}",
                        )
                    )
                    ok = False
                    continue
                renamed = new + item.id[len(old):]
                if not _RULE_ID.match(renamed) or len(renamed) > RULE_ID_MAX:
                    problems.append(
                        Problem("rules.extends_bad_id", f"{item.id} 改编号后的 {renamed!r} 不是有效的规则编号", loc.pos("extends", "ids", "to"))
                    )
                    ok = False
                    continue
                rename[item.id] = renamed
    new_ids = set(rename.values())
    own: dict[str, tuple[str, int]] = {item.id: (group, i) for group in _GROUPS for i, item in enumerate(getattr(rf, group))}
    overrides = set(ext.overrides)
    for j, item_id in enumerate(ext.overrides):
        if item_id not in new_ids:
            problems.append(
                Problem(
                    "rules.extends_override_unknown",
                    f"overrides 中的 {item_id!r} 不是继承来的规则编号（改编号后）",
                    loc.pos("extends", "overrides", j),
                    suggest(item_id, new_ids),
                )
            )
            ok = False
        elif item_id not in own:
            problems.append(
                Problem("rules.extends_override_missing", f"overrides 列出了 {item_id}，但本文件没有写出它", loc.pos("extends", "overrides", j))
            )
            ok = False
    for item_id, (group, i) in own.items():
        if item_id in new_ids and item_id not in overrides:
            problems.append(
                Problem(
                    "rules.inherited_id",
                    f"{item_id} 已从 {ext.version} 版继承",
                    loc.pos(group, i, "id"),
                    "要改写继承来的规则，在 extends.overrides 中列出它；否则换一个编号",
                )
            )
            ok = False
    if not ok:
        return None

    def remap(ids: list[str]) -> list[str]:
        return [rename.get(x, x) for x in ids]

    def carried(item: Rule | Combination | Exclusion, test_facts: dict[str, Any]) -> Rule | Combination | Exclusion:
        # The base file's test_facts go into each case, which then starts from the same answers
        # as under the base; the inheriting file's own test_facts fill what those leave open.
        update: dict[str, Any] = {
            "id": rename[item.id],
            "replaces": None,
            "tests": [t.model_copy(update={"facts": {**test_facts, **t.facts}}) for t in item.tests] if test_facts else item.tests,
        }
        if isinstance(item, Combination):
            update["variants"] = [v.model_copy(update={"elements": remap(v.elements)}) for v in item.variants]
        elif isinstance(item, Exclusion) and item.applies_to != "all":
            update["applies_to"] = remap(item.applies_to)
        return item.model_copy(update=update)

    own_entries = {group: entries_of(loc.raw.get(group)) for group in _GROUPS}
    update: dict[str, Any] = {}
    raw_update: dict[str, Any] = {}
    inherited: dict[str, str] = {}  # new id → id in its base file
    for group in _GROUPS:
        items: list[Any] = []
        entries: list[tuple[Any, Any]] = []
        for base in bases:
            base_entries = entries_of(base.raw.get(group))
            for item, entry in zip(getattr(base.model, group), base_entries):
                new_id = rename[item.id]
                inherited[new_id] = item.id
                if new_id in overrides:
                    g, i = own[new_id]
                    items.append(getattr(rf, g)[i])
                    entries.append(own_entries[g][i])
                else:
                    items.append(carried(item, base.model.test_facts))
                    entries.append(entry)
        for item, entry in zip(getattr(rf, group), own_entries[group]):
            if item.id not in overrides:
                items.append(item)
                entries.append(entry)
        update[group] = items
        raw_update[group] = joined_list(entries, loc.raw.get(group))
    for g in _GROUPS:
        for item in update[g]:
            if item.id in overrides and own[item.id][0] != g:
                # A rule written anew as a combination (or so) would change what cites it.
                problems.append(
                    Problem(
                        "rules.extends_override_kind",
                        f"{item.id} 改写继承来的 {_GROUP_ZH[g]}，须写在同一类（{g}）中",
                        loc.pos(own[item.id][0], own[item.id][1], "id"),
                    )
                )
                ok = False
    if not ok:
        return None
    for item_id in overrides:
        inherited.pop(item_id, None)
    model = rf.model_copy(update=update)
    raw = with_values(loc.raw, raw_update)
    bases_paths = tuple(p for base in bases for p in (*base.bases, base.path))
    return Located(model, raw, loc.path, loc.layer, bases=bases_paths, inherited=inherited)


_GROUP_ZH = {"rules": "规则", "combinations": "综合判定", "exclusions": "排除情形"}


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
        layer = bundle.layer(loc.layer)
        sector_dir = loc.path.relative_to(layer.rules_dir).parts[0]
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
                old = bundle.items.get(item.id)
                what = {"rules": "rule", "combinations": "combination", "exclusions": "exclusion"}[group]
                how = _replacing(what, item.id, item.replaces, layer, old.file.layer if old else None, src.pos("id"), bundle, problems)
                if how is None:
                    if old is not None and (old.file.layer == layer.id or not layer.overlay):
                        problems.append(
                            Problem("rules.duplicate_id", f"规则编号 {item.id} 重复（首次：{old.pos('id')}）", src.pos("id"))
                        )
                    continue
                if how and f"{old.file.model.document}@{old.file.model.version}" != key:
                    problems.append(
                        Problem("overlay.replaces_elsewhere", f"{item.id} 替换的规则编码 {old.file.model.document}@{old.file.model.version}，替换后的规则须编码同一文件版本", src.pos("document"))
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
        cited.setdefault(key, set()).update(src.item.all_cites)
    for key, version in bundle.documents.items():
        for part in version.doc.unread_parts:
            problems.append(
                Problem("coverage.unread", f"{key} 尚未取得条文：{part}", version.located.pos("unread_parts"), severity="warning")
            )
        for part in version.doc.not_encoded:
            problems.append(
                Problem("coverage.not_encoded", f"{key} 尚未编码：{part}", version.located.pos("not_encoded"), severity="warning")
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
