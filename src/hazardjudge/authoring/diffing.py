"""``diff OLD NEW``: what changed between two bundles, clause by clause, and what that changes.

Beyond the text of criteria and rules, the report runs every YAML test case
of both trees against both engines, and re-judges stored inspections, so a
reviewer sees which outcomes a revision actually moves.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from hazardjudge.api import Engine
from hazardjudge.authoring.testing import Case, iter_cases, outcome_of
from hazardjudge.engine.yamlio import read_text
from hazardjudge.errors import InputError
from hazardjudge.inputs.inspections import parse_inspection


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # added | removed | changed
    what: str  # document | clause | rule | combination | exclusion
    key: str
    detail: str = ""


class OutcomeChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str  # a test case id or a stored inspection file
    old: str
    new: str


class DiffReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    changes: list[Change]
    test_cases: list[OutcomeChange]
    inspections: list[OutcomeChange]


def _clauses(engine: Engine) -> dict[tuple[str, str], dict]:
    return {
        (key, cid): entry.clause.model_dump(exclude={"clauses"})
        for key, version in engine.bundle.documents.items()
        for cid, entry in version.clauses.items()
    }


def _items(engine: Engine) -> dict[str, tuple[str, dict]]:
    out = {}
    for item_id, src in engine.bundle.items.items():
        kind = type(src.item).__name__.lower()
        rf = src.file.model
        body = src.item.model_dump(exclude={"tests"})
        body["document"] = f"{rf.document}@{rf.version}"
        out[item_id] = (kind, body)
    return out


def _field_changes(old: dict, new: dict) -> str:
    return "、".join(sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)))


def diff(old: Engine, new: Engine, inspections: list[Path] = (), on: dt.date | None = None) -> DiffReport:
    changes: list[Change] = []
    old_docs, new_docs = old.bundle.documents, new.bundle.documents
    for key in sorted(set(old_docs) | set(new_docs)):
        if key not in new_docs:
            changes.append(Change(kind="removed", what="document", key=key))
        elif key not in old_docs:
            changes.append(Change(kind="added", what="document", key=key))
        else:
            a = old_docs[key].doc.model_dump(exclude={"clauses"})
            b = new_docs[key].doc.model_dump(exclude={"clauses"})
            if a != b:
                changes.append(Change(kind="changed", what="document", key=key, detail=_field_changes(a, b)))
    old_clauses, new_clauses = _clauses(old), _clauses(new)
    for key in sorted(set(old_clauses) | set(new_clauses)):
        label = f"{key[0]} {key[1]}"
        if key not in new_clauses:
            changes.append(Change(kind="removed", what="clause", key=label))
        elif key not in old_clauses:
            changes.append(Change(kind="added", what="clause", key=label))
        elif old_clauses[key] != new_clauses[key]:
            changes.append(Change(kind="changed", what="clause", key=label, detail=_field_changes(old_clauses[key], new_clauses[key])))
    old_items, new_items = _items(old), _items(new)
    for key in sorted(set(old_items) | set(new_items)):
        if key not in new_items:
            changes.append(Change(kind="removed", what=old_items[key][0], key=key))
        elif key not in old_items:
            changes.append(Change(kind="added", what=new_items[key][0], key=key))
        elif old_items[key][1] != new_items[key][1]:
            changes.append(Change(kind="changed", what=new_items[key][0], key=key, detail=_field_changes(old_items[key][1], new_items[key][1])))
    return DiffReport(changes=changes, test_cases=_case_changes(old, new), inspections=_inspection_changes(old, new, inspections, on))


def diff_versions(engine: Engine, old_key: str, new_key: str, ids: tuple[str, str] | None = None) -> DiffReport:
    """What one version of a document changes against another, in one bundle, clause by clause and item by item.

    Items are matched across the versions by id with the prefix ``ids`` = (old, new) swapped;
    by default the prefixes the new version's rule file declares in ``extends.ids`` (an item it
    inherits is then the same item as its base's). The documents' own fields are compared too
    (all but clauses, version and extends; sources and recorded gaps as assembled). Each test case
    of an old item is judged again by the new version's counterpart with the same answers
    (``test_cases``: those whose outcome differs).
    """
    docs = engine.bundle.documents
    for key in (old_key, new_key):
        if key not in docs:
            raise KeyError(f"{key} 不在规则包中（写成 文件@版本）")
    if docs[old_key].doc.document != docs[new_key].doc.document:
        raise ValueError(f"{old_key} 与 {new_key} 不是同一文件的两个版本")
    changes: list[Change] = []
    exclude = {"clauses", "version", "extends"}
    a, b = docs[old_key].doc.model_dump(exclude=exclude), docs[new_key].doc.model_dump(exclude=exclude)
    if a != b:
        changes.append(Change(kind="changed", what="document", key=f"{old_key} → {new_key}", detail=_field_changes(a, b)))
    old_clauses = {cid: e.clause.model_dump(exclude={"clauses"}) for cid, e in docs[old_key].clauses.items()}
    new_clauses = {cid: e.clause.model_dump(exclude={"clauses"}) for cid, e in docs[new_key].clauses.items()}
    for cid in list(old_clauses) + [c for c in new_clauses if c not in old_clauses]:
        if cid not in new_clauses:
            changes.append(Change(kind="removed", what="clause", key=cid))
        elif cid not in old_clauses:
            changes.append(Change(kind="added", what="clause", key=cid))
        elif old_clauses[cid] != new_clauses[cid]:
            changes.append(Change(kind="changed", what="clause", key=cid, detail=_field_changes(old_clauses[cid], new_clauses[cid])))
    new_sources = engine.bundle.items_of(new_key)
    if ids is None:
        declared = next((s.file.model.extends for s in new_sources if s.file.model.extends is not None), None)
        ids = (declared.ids.from_, declared.ids.to) if declared is not None else ("", "")

    def body(src) -> dict:
        return src.item.model_dump(exclude={"tests", "id", "replaces"})

    def matched(item_id: str) -> str:
        old, new = ids
        return new + item_id[len(old):] if old and item_id.startswith(old) else item_id

    old_items = {matched(s.item.id): (type(s.item).__name__.lower(), s.item.id, body(s)) for s in engine.bundle.items_of(old_key)}
    new_items = {s.item.id: (type(s.item).__name__.lower(), s.item.id, body(s)) for s in new_sources}
    for key in list(old_items) + [k for k in new_items if k not in old_items]:
        if key not in new_items:
            changes.append(Change(kind="removed", what=old_items[key][0], key=old_items[key][1]))
        elif key not in old_items:
            changes.append(Change(kind="added", what=new_items[key][0], key=key))
        else:
            old_body, new_body = old_items[key][2], new_items[key][2]
            # Elements and targets are ids too: the old ones are compared with the prefix swapped.
            for v in old_body.get("variants", []):
                v["elements"] = [matched(e) for e in v["elements"]]
            if isinstance(old_body.get("applies_to"), list):
                old_body["applies_to"] = [matched(t) for t in old_body["applies_to"]]
            if old_body != new_body or old_items[key][0] != new_items[key][0]:
                changes.append(Change(kind="changed", what=new_items[key][0], key=key, detail=_field_changes(old_body, new_body)))
    # Each old case's answers judged by the item's counterpart in the new version too: what the new
    # version changes for them (a rewritten condition, an exclusion of its own), not just in its text.
    counterpart = {s.item.id: s for s in new_sources}
    outcomes = []
    for case in iter_cases(engine):
        src = counterpart.get(matched(case.source.item.id)) if case.document_key == old_key else None
        if src is not None:
            again = Case(src, case.case.model_copy(update={"facts": case.facts}), case.index)
            a, b = _run(engine, case), _run(engine, again)
            if a != b:
                outcomes.append(OutcomeChange(subject=again.id, old=a, new=b))
    return DiffReport(changes=changes, test_cases=outcomes, inspections=[])


def _run(engine: Engine, case: Case) -> str:
    """A case judged by an engine that may not know its rule: "absent" then."""
    if case.source.item.id not in engine.bundle.items or case.document_key not in engine.bundle.documents:
        return "absent"
    try:
        return outcome_of(engine, case)[0]
    except InputError:
        return "input_error"


def _case_changes(old: Engine, new: Engine) -> list[OutcomeChange]:
    cases: dict[str, Case] = {}
    for engine in (old, new):
        for case in iter_cases(engine):
            cases.setdefault(case.id, case)
    out = []
    for case_id, case in sorted(cases.items()):
        a, b = _run(old, case), _run(new, case)
        if a != b:
            out.append(OutcomeChange(subject=case_id, old=a, new=b))
    return out


def _summary(engine: Engine, inspection, on: dt.date | None) -> str:
    try:
        verdict = engine.judge(inspection.facts, on=on or inspection.on, sectors=inspection.sectors)
    except InputError as exc:
        return "输入错误：" + "；".join(p.message for p in exc.problems)
    found = sorted(f"{c.clause}" for r in verdict.findings() for c in r.citations)
    return f"{verdict.outcome.value}" + (f"（{'、'.join(found)}）" if found else "")


def _inspection_changes(old: Engine, new: Engine, paths, on) -> list[OutcomeChange]:
    out = []
    for path in paths:
        inspection = parse_inspection(read_text(Path(path)), str(path)).inspection
        a, b = _summary(old, inspection, on), _summary(new, inspection, on)
        if a != b:
            out.append(OutcomeChange(subject=str(path), old=a, new=b))
    return out


KIND_ZH = {"added": "新增", "removed": "删除", "changed": "修改"}
WHAT_ZH = {"document": "文件版本", "clause": "条款", "rule": "规则", "combination": "综合判定", "exclusion": "排除情形"}


def render_text(report: DiffReport) -> str:
    lines = [f"变更 {len(report.changes)} 处："]
    for c in report.changes:
        detail = f"（字段：{c.detail}）" if c.detail else ""
        lines.append(f"  {KIND_ZH[c.kind]} {WHAT_ZH.get(c.what, c.what)} {c.key}{detail}")
    lines.append(f"结果改变的测试用例 {len(report.test_cases)} 个：")
    lines += [f"  {c.subject}：{c.old} → {c.new}" for c in report.test_cases]
    if report.inspections:
        lines.append(f"结果改变的已存检查记录 {len(report.inspections)} 个：")
        lines += [f"  {c.subject}：{c.old} → {c.new}" for c in report.inspections]
    return "\n".join(lines) + "\n"
