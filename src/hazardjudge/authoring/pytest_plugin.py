"""pytest plugin: every YAML test case under a rules folder becomes its own test item.

Registered through the ``pytest11`` entry point, so ``pytest rules/`` (or a
project whose testpaths include its rules folder) runs them with ids like
``rules/city_gas/art04_management.yaml::city_gas.4-1::无许可证``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_engines: dict[tuple, object] = {}


def _bundle_dirs(path: Path) -> tuple | None:
    """A rule file lives at <root>/rules/<sector>/<file>.yaml beside <root>/criteria.

    When <root> holds overlay.yaml, the file belongs to an overlay: its cases run on the
    shipped bundle with that overlay on top, ``(None, None, root)``.
    """
    from hazardjudge.engine.loading import OVERLAY_FILE

    sector_dir = path.parent
    rules_dir = sector_dir.parent
    root = rules_dir.parent
    if path.name == "sector.yaml":
        return None
    if rules_dir.name == "rules" and (root / OVERLAY_FILE).is_file():
        return None, None, root.resolve()
    criteria_dir = root / "criteria"
    if (sector_dir / "sector.yaml").is_file() and criteria_dir.is_dir():
        return criteria_dir.resolve(), rules_dir.resolve()
    return None


def pytest_collect_file(parent: pytest.Collector, file_path: Path):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    dirs = _bundle_dirs(file_path)
    if dirs is None:
        return None
    return RuleFileCollector.from_parent(parent, path=file_path, dirs=dirs)


def _engine(dirs: tuple):
    from hazardjudge.api import load

    if dirs not in _engines:
        _engines[dirs] = load(*dirs[:2], overlays=list(dirs[2:]))
    return _engines[dirs]


class RuleFileCollector(pytest.File):
    def __init__(self, *, dirs: tuple, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dirs = dirs

    def collect(self):
        from hazardjudge.authoring.testing import iter_cases

        engine = _engine(self.dirs)
        here = self.path.resolve()
        # Cases of items a file inherits (``extends:``) run here too, under this file's version.
        for case in iter_cases(engine):
            if case.source.file.path.resolve() == here:
                yield RuleCaseItem.from_parent(self, name=case.id, case=case, engine=engine)


class RuleCaseItem(pytest.Item):
    def __init__(self, *, case, engine, **kwargs) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.engine = engine

    def runtest(self) -> None:
        from hazardjudge.authoring.testing import run_case

        result = run_case(self.engine, self.case)
        if not result.passed:
            raise RuleCaseFailure(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, RuleCaseFailure):
            r = excinfo.value.result
            return f"{self.case.position}: {r.case.id}: {r.message}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        pos = self.case.position
        # An inherited case is collected under the inheriting file but written in its base file.
        return (Path(pos.file) if pos else self.path), (pos.line - 1 if pos else None), self.case.id


class RuleCaseFailure(Exception):
    def __init__(self, result) -> None:
        super().__init__(result.message)
        self.result = result
