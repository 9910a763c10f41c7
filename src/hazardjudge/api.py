"""The library surface: :func:`load` a bundle into an :class:`Engine`, then :meth:`Engine.judge`."""

from __future__ import annotations

import datetime as dt
import os
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from hazardjudge import clock
from hazardjudge.engine.answers import Answers, display_value
from hazardjudge.engine.compiling import CompiledBundle, compile_bundle
from hazardjudge.engine.conditions import evaluate, referenced_facts
from hazardjudge.engine.evaluating import DurableEvaluator, Evaluation
from hazardjudge.engine.loading import Bundle, default_dirs, load_bundle
from hazardjudge.engine.models import GeneralHazard, Inspection, Verdict
from hazardjudge.engine.verdicts import VerdictBuilder, reference_version, select_versions
from hazardjudge.errors import BundleError, InputError, Problem, suggest
from hazardjudge.inputs import observations
from hazardjudge.inputs.reading import Constraints, ReadMemo, read_answers

if TYPE_CHECKING:
    from hazardjudge.inputs.pasting import Pasted


class Engine:
    """A loaded, compiled bundle with its own durable_rules rulesets.

    Engines are independent: two engines over different folders can live in
    one process. An engine is safe to share between threads.

    An engine pickles as its bundle's source (the criteria and rules folders, ``None``
    for the shipped ones) and fingerprint, not its C handles: a worker process or a
    Dask worker unpickling it loads that bundle once and reuses it for every later
    engine with the same fingerprint, and refuses to judge with folders whose content
    differs from the sender's (see :func:`_restore`).
    """

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.compiled: CompiledBundle = compile_bundle(bundle)
        self._evaluator = DurableEvaluator(self.compiled)
        self._memo: dict = {}  # what verdicts need that depends only on the bundle, built once
        _live.setdefault(bundle.fingerprint, self)

    def __reduce__(self):
        return _restore, (*_source(self.bundle), self.bundle.fingerprint)

    @property
    def sources(self) -> tuple[Path, Path, tuple[Path, ...]]:
        """What the bundle was loaded from: ``load(*engine.sources)`` builds the same engine."""
        return self.bundle.criteria_dir, self.bundle.rules_dir, self.bundle.overlay_dirs

    # ----------------------------------------------------------------- inputs

    def read(self, facts: Mapping[str, Any], positions: dict[str, Any] | None = None) -> Answers:
        memo = self._memo.get("read")
        if memo is None:
            memo = self._memo["read"] = ReadMemo()
        return read_answers(dict(facts), self.bundle.facts, self._constraints(), positions, self.bundle.vocabulary, memo)

    def _constraints(self) -> Constraints:
        prepared = self._memo.get("constraints")
        if prepared is None:
            prepared = self._memo["constraints"] = Constraints(c for loc in self.bundle.constraints for c in loc.model.constraints)
        return prepared

    def paste(
        self,
        data: bytes | str,
        on: dt.date | None = None,
        sectors: Iterable[str] | None = None,
        site: Mapping[str, Any] | None = None,
        fmt: str | None = None,
        source: str = "<粘贴>",
    ) -> tuple[Answers, "Pasted"]:
        """Read pasted answers (chat lines, CSV, tab-separated rows, XLSX).

        Unreadable answers come back as problems and stay unknown; the answers that
        were read are returned typed, so a verdict can still be given on them.
        A filled checklist's own date and sectors apply unless ``on``/``sectors`` are given
        (``pasted.on``/``pasted.sectors`` are what to judge with). Checklist numbers refer to
        the checklist the pasted 检查表编号 names; without one, to the checklist built for the
        same date, sectors and site.
        """
        from hazardjudge.inputs.checklists import build, rebuild
        from hazardjudge.inputs.pasting import parse

        def default(meta):
            return build(self, on or meta.date or clock.today(), sectors or meta.sectors, dict(site or {}))

        pasted = parse(
            data, self.bundle.facts, None, fmt, source, default, lambda identity: rebuild(self, identity), self.bundle.vocabulary
        )
        # The date and sectors decide which clauses apply: one the file gives unreadably or twice
        # stops the judgement unless the caller gives it.
        needed = ({"date"} if on is None else set()) | (set() if sectors else {"sectors"})
        if pasted.meta.unsure & needed:
            raise InputError([p for p in pasted.problems if p.code in ("paste.meta_date", "paste.meta_conflict")])
        # Answers numbered against a checklist that only its 检查表编号 line names (an inspector
        # replying in a chat rarely copies the date and unit-type lines): that checklist's date,
        # named sectors and unit type are the inspection's, as its metadata lines would say.
        numbered = pasted.numbering
        pasted.on = on or pasted.meta.date or (numbered.date if numbered else None)
        pasted.sectors = list(sectors) if sectors else pasted.meta.sectors or (numbered.sectors if numbered and numbered.named else None)
        if numbered is not None and not site:
            site = {k: v for k, v in numbered.site_values().items() if k not in pasted.facts}
        if pasted.sectors:
            self._sectors(pasted.sectors)  # a filled checklist's 判定行业 line names known sectors
        # The site answers chose the checklist, which then leaves them out: they are answers too.
        answers = Answers(values={**self.read(site or {}).values, **pasted.facts})
        for c in self._constraints().violated(answers.values):
            involved = referenced_facts(c.condition)
            pasted.problems.append(Problem("paste.contradiction", f"回答相互矛盾，已作为未回答处理：{c.message}（{'、'.join(involved)}）"))
            for fid in involved:
                answers.values.pop(fid, None)
                pasted.facts.pop(fid, None)
        pasted.general_hazards = observations.drop_unknown_categories(pasted.general_hazards, self.bundle, pasted.problems)
        return answers, pasted

    def _sectors(self, sectors: Iterable[str] | None, answers: Answers | None = None) -> tuple[list[str], set[str]]:
        if not sectors:
            return sorted(self.bundle.sectors), set()
        chosen = list(dict.fromkeys(sectors))
        unknown = [s for s in chosen if s not in self.bundle.sectors]
        if unknown:
            raise InputError(
                Problem("input.unknown_sector", f"未知的行业 {s!r}", None, suggest(s, self.bundle.sectors)) for s in unknown
            )
        if answers is not None:
            self._check_named(chosen, answers)
        return chosen, set(chosen)

    def _check_named(self, chosen: list[str], answers: Answers) -> None:
        """Refuse a named sector that the answers themselves rule out.

        Naming a sector makes it applicable without its scope questions; when the unit type
        already answered says the unit is outside that scope, applying it anyway would judge
        a building site by the gas criteria. Input validation, not a verdict: the engine
        still decides every clause.
        """
        problems = []
        for sector in chosen:
            model = self.bundle.sectors[sector].model
            if evaluate(model.applies_when, answers.values) is False:
                shown = "；".join(
                    f"{fid}：{display_value(self.bundle.facts[fid], answers.values[fid])}"
                    for fid in referenced_facts(model.applies_when)
                    if fid in answers.values and fid in self.bundle.facts
                )
                problems.append(
                    Problem(
                        "input.sector_contradiction",
                        f"指定的行业 {sector}（{model.title}）与已填回答不符（{shown}）：按这些回答，该单位不在本标准适用范围内",
                        None,
                        "请核对单位类型，或不指定行业、由回答决定适用的标准",
                    )
                )
        if problems:
            raise InputError(problems)

    def plan(self, on: dt.date, sectors: list[str]) -> list[str]:
        """Document version keys to evaluate: the version of each sector's document in force on ``on``,
        and the earlier version it names as provisional reference (judged and labelled, never confirmed)."""
        keys = []
        for sector in sectors:
            version = select_versions(self.compiled, sector, on)
            if version is not None:
                keys.append(version.key)
                reference = reference_version(self.compiled, version)
                if reference is not None:
                    keys.append(reference.key)
        return keys

    # ----------------------------------------------------------------- judging

    def evaluate(self, answers: Answers, on: dt.date, sectors: Iterable[str] | None = None, evaluator: Any = None) -> tuple[Evaluation, list[str], set[str]]:
        chosen, named = self._sectors(sectors, answers)
        runner = evaluator or self._evaluator
        return runner.evaluate(answers, named, self.plan(on, chosen)), chosen, named

    def judge(
        self,
        facts: Mapping[str, Any] | Inspection | Answers,
        on: dt.date | None = None,
        sectors: Iterable[str] | None = None,
        general_hazards: Iterable[GeneralHazard | Mapping[str, Any]] | None = None,
        decisive_only: bool = False,
    ) -> Verdict:
        """Judge one inspection. ``on`` defaults to the inspection's own date, then today.

        ``general_hazards`` (or an Inspection's own) are echoed in the verdict with hints to
        the questions that decide them; they never change the outcome or the findings.

        ``decisive_only``: the verdict lists only the results of major clauses that are
        triggered or still open (their citations, facts, missing answers) and no questions or
        possible outcomes; its outcomes and labels are the full verdict's. For a caller that
        reads nothing else, such as the batch's findings view; not a verdict to show a user.
        """
        hazards = observations.from_data(list(general_hazards), None, "<general_hazards>") if general_hazards else []
        if isinstance(facts, Inspection):
            on = on or facts.on
            sectors = sectors if sectors is not None else facts.sectors
            hazards = list(facts.general_hazards) + hazards
            answers = self.read(facts.facts)
        elif isinstance(facts, Answers):
            answers = facts
        else:
            answers = self.read(facts)
        if hazards and (problems := observations.check_categories(hazards, self.bundle)):
            raise InputError(problems)
        on = on or clock.today()
        evaluation, chosen, named = self.evaluate(answers, on, sectors)
        verdict = VerdictBuilder(self.compiled, answers, on, named, self._memo, decisive_only).build(evaluation, chosen)
        return observations.attach(verdict, hazards, self.bundle, answers)


_default: Engine | None = None
_default_lock = threading.Lock()

# Engines by bundle fingerprint. Those made here are held weakly (a test or a service may
# load and drop many); those made by unpickling are kept for the life of the process, so
# the thousands of tasks a worker runs load the bundle once.
_live: "weakref.WeakValueDictionary[str, Engine]" = weakref.WeakValueDictionary()
_restored: dict[str, Engine] = {}
_restore_lock = threading.Lock()


def _source(bundle: Bundle) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Where a receiving process finds the bundle: the shipped one by its own install
    (a cluster worker's path differs from the sender's), any other by its folders; the
    overlays always by their folders, named explicitly so the receiver's
    HAZARDJUDGE_OVERLAYS cannot add or drop one."""
    shipped = tuple(p.resolve() for p in default_dirs())
    here = (bundle.criteria_dir.resolve(), bundle.rules_dir.resolve())
    overlays = tuple(str(Path(o).resolve()) for o in bundle.overlay_dirs)
    if here == shipped:
        return None, None, overlays
    return str(here[0]), str(here[1]), overlays


def _restore(criteria: str | None, rules: str | None, overlays: tuple[str, ...], fingerprint: str) -> Engine:
    """Unpickle an engine: the one this process already has for ``fingerprint``, or a fresh load.

    A load whose fingerprint differs (the folders changed since the engine was pickled,
    or a worker holds another release) raises :class:`BundleError` rather than judge with
    other criteria than the sender's.
    """
    with _restore_lock:
        engine = _restored.get(fingerprint) or _live.get(fingerprint)
        if engine is None:
            engine = load(criteria, rules, list(overlays))
            if engine.bundle.fingerprint != fingerprint:
                where = "随包提供的规则包" if criteria is None else f"{criteria} 与 {rules}"
                raise BundleError(
                    [
                        Problem(
                            "bundle.fingerprint_mismatch",
                            f"{where} 的指纹为 {engine.bundle.fingerprint}，与发送方的 {fingerprint} 不同：规则包在两处不一致，未作判定",
                            None,
                            "请在每个工作进程上部署同一版本的 criteria 和 rules",
                        )
                    ]
                )
        _restored[fingerprint] = engine
        return engine


#: overlay folders every load() without explicit ``overlays`` puts on top, separated by os.pathsep
OVERLAYS_ENV = "HAZARDJUDGE_OVERLAYS"


def environment_overlays() -> list[Path]:
    """The overlay folders named by HAZARDJUDGE_OVERLAYS, in order (empty entries ignored)."""
    return [Path(p) for p in os.environ.get(OVERLAYS_ENV, "").split(os.pathsep) if p.strip()]


def load(
    criteria: Path | str | None = None,
    rules: Path | str | None = None,
    overlays: Iterable[Path | str] | None = None,
) -> Engine:
    """Load, check and compile a bundle. Without arguments: the criteria and rules shipped with the package.

    ``overlays``: folders (each with overlay.yaml and criteria/ and/or rules/) laid on top in
    order; None reads HAZARDJUDGE_OVERLAYS, an empty list loads none.
    """
    chosen = environment_overlays() if overlays is None else [Path(o) for o in overlays]
    return Engine(load_bundle(criteria, rules, chosen))


def default_engine() -> Engine:
    global _default
    with _default_lock:
        if _default is None:
            _default = load()
        return _default


def judge(
    facts: Mapping[str, Any] | Inspection,
    on: dt.date | None = None,
    sectors: Iterable[str] | None = None,
    general_hazards: Iterable[GeneralHazard | Mapping[str, Any]] | None = None,
) -> Verdict:
    """Judge with the shipped bundle (loaded once per process)."""
    return default_engine().judge(facts, on=on, sectors=sectors, general_hazards=general_hazards)
