"""Safe YAML and JSON reading that remembers where every value came from.

Errors in rule files must name file, line and column, so mappings are built as
:class:`LocDict` and sequences as :class:`LocList`, each carrying the position
of its own start and of each key or item. Anchors and aliases are refused
outright: they buy authors little and are the vector for alias bombs.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import yaml

from hazardjudge.errors import InputError, Position, Problem

MAX_FILE_BYTES = 4 * 1024 * 1024


class LocDict(dict):
    """A dict that knows where it and each of its keys started.

    Positions are kept as the parser's marks and become :class:`Position` only when
    asked for: a bundle has tens of thousands of nodes and reports on a handful.
    """

    __slots__ = ("_file", "_mark", "_key_marks")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._file = ""
        self._mark: Any = None
        self._key_marks: dict[Any, Any] = {}

    @property
    def pos(self) -> Position | None:
        return _mark_pos(self._file, self._mark) if self._mark is not None else None

    @property
    def key_pos(self) -> dict[Any, Position]:
        return {key: _mark_pos(self._file, mark) for key, mark in self._key_marks.items()}


class LocList(list):
    """A list that knows where it and each of its items started.

    A list joined from several files (a version inheriting another's clauses or rules,
    see :func:`joined_list`) keeps each item's own file in ``_item_files``, so a problem
    in an inherited item is reported at the line that wrote it.
    """

    __slots__ = ("_file", "_mark", "_item_marks", "_item_files")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._file = ""
        self._mark: Any = None
        self._item_marks: list[Any] = []
        self._item_files: list[str] | None = None

    @property
    def pos(self) -> Position | None:
        return _mark_pos(self._file, self._mark) if self._mark is not None else None

    def item_where(self, i: int) -> tuple[str, Any] | None:
        """The file and parser mark of item ``i`` (None: the item was not read from a file)."""
        mark = self._item_marks[i] if i < len(self._item_marks) else None
        if mark is None:
            return None
        return (self._item_files[i] if self._item_files is not None else self._file), mark

    @property
    def item_pos(self) -> list[Position | None]:
        return [_mark_pos(*where) if (where := self.item_where(i)) else None for i in range(len(self))]


def _mark_pos(file: str, mark: yaml.Mark) -> Position:
    return Position(file, mark.line + 1, mark.column + 1)


# libyaml's parser is about five times faster than the pure-Python one and
# still gives every node its marks; fall back when PyYAML was built without it.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


_resolved: dict[tuple[str, Any], str] = {}
_RESOLVE_MAX_LEN = 48
_RESOLVE_MAX_ENTRIES = 100_000


class _LocatingLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that records positions, rejects duplicate keys and aliases.

    Plain mappings, sequences and strings (nearly every node of a bundle) are built
    here directly; every other tag goes through SafeConstructor as usual. PyYAML's
    generic path costs more than the parse itself on a bundle.
    """

    source_name = "<yaml>"

    if not _BaseLoader.yaml_path_resolvers:
        # PyYAML's resolver is pure Python and libyaml's composer calls it for every node
        # (about a fifth of loading the shipped bundle). With no path resolvers registered,
        # as for every safe loader, a tag depends only on the node's kind, its text and how
        # the scalar was written (plain or quoted): short scalars, the keys and small values
        # that repeat through a bundle, are resolved once per process. Long texts are rarely
        # repeated and are resolved each time. The path tracking has nothing to track.
        def resolve(self, kind, value, implicit):  # type: ignore[override]
            if kind is not yaml.ScalarNode or len(value) > _RESOLVE_MAX_LEN:
                return super().resolve(kind, value, implicit)
            key = (value, implicit)
            tag = _resolved.get(key)
            if tag is None:
                if len(_resolved) >= _RESOLVE_MAX_ENTRIES:
                    _resolved.clear()
                tag = _resolved[key] = super().resolve(kind, value, implicit)
            return tag

        def descend_resolver(self, current_node, current_index):  # type: ignore[override]
            pass

        def ascend_resolver(self):  # type: ignore[override]
            pass

    def construct_document(self, node):  # type: ignore[override]
        self._seen: set[yaml.Node] = set()
        return self.construct_object(node)

    def _refuse_alias(self, node: yaml.Node) -> None:
        # An alias hands back a node that was already built: that is the only
        # way a node is seen twice, so it is how aliases are caught.
        raise InputError(
            [Problem("yaml.alias", "不支持 YAML 锚点/别名（&/*），请直接写出内容", _mark_pos(self.source_name, node.start_mark))]
        )

    def construct_object(self, node, deep=False):  # type: ignore[override]
        seen = self._seen
        if node in seen:
            self._refuse_alias(node)
        seen.add(node)
        tag = node.tag
        if tag == _STR and isinstance(node, yaml.ScalarNode):
            return node.value
        if tag == _MAP and isinstance(node, yaml.MappingNode):
            return self.construct_mapping(node)
        if tag == _SEQ and isinstance(node, yaml.SequenceNode):
            return self.construct_sequence(node)
        # Always deep, so the positions exist before anyone reads the value.
        try:
            return super().construct_object(node, deep=True)
        except (ValueError, OverflowError):
            # A timestamp that is no date (2026-02-30), an integer of thousands of digits:
            # PyYAML raises without a position, which would reach the user as a crash.
            shown = str(node.value)[:40] if isinstance(node, yaml.ScalarNode) else tag
            kind = "日期不存在" if tag.endswith(":timestamp") else "位数过多" if tag.endswith((":int", ":float")) else "无法识别"
            raise InputError(
                [Problem("yaml.value", f"值“{shown}”{kind}", _mark_pos(self.source_name, node.start_mark))]
            ) from None

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)
        name = self.source_name
        seen = self._seen
        result = LocDict()
        result._file = name
        result._mark = node.start_mark
        key_marks = result._key_marks
        for key_node, value_node in node.value:
            if key_node.tag == _STR and isinstance(key_node, yaml.ScalarNode) and key_node not in seen:
                seen.add(key_node)
                key = key_node.value
            else:
                key = self.construct_object(key_node)
                try:
                    hash(key)
                except TypeError:
                    raise InputError([Problem("yaml.key", "键必须是简单值", _mark_pos(name, key_node.start_mark))]) from None
            if key in result:
                first = _mark_pos(name, key_marks[key])
                raise InputError(
                    [
                        Problem(
                            "yaml.duplicate_key",
                            f"重复的键 {key!r}（首次出现在第 {first.line} 行）",
                            _mark_pos(name, key_node.start_mark),
                        )
                    ]
                )
            if value_node.tag == _STR and isinstance(value_node, yaml.ScalarNode) and value_node not in seen:
                seen.add(value_node)
                result[key] = value_node.value
            else:
                result[key] = self.construct_object(value_node)
            key_marks[key] = key_node.start_mark
        return result

    def construct_sequence(self, node, deep=False):  # type: ignore[override]
        result = LocList()
        result._file = self.source_name
        result._mark = node.start_mark
        marks = result._item_marks
        for child in node.value:
            result.append(self.construct_object(child))
            marks.append(child.start_mark)
        return result


# Plain mappings and sequences reached through SafeConstructor (inside a !!set,
# say) still become LocDict and LocList.
_LocatingLoader.add_constructor(_MAP, lambda loader, node: loader.construct_mapping(node))
_LocatingLoader.add_constructor(_SEQ, lambda loader, node: loader.construct_sequence(node))


def _check_size(text: str | bytes, name: str) -> None:
    if len(text) > MAX_FILE_BYTES:
        raise InputError(
            [Problem("input.too_large", f"文件过大（{len(text)} 字节，上限 {MAX_FILE_BYTES} 字节）", Position(name, 1, 1))]
        )


def load_yaml_text(text: str, name: str) -> Any:
    _check_size(text, name)
    loader = _LocatingLoader(text)
    loader.source_name = name
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _mark_pos(name, mark) if mark else Position(name, 1, 1)
        raise InputError([Problem("yaml.syntax", f"YAML 格式错误：{exc.problem or exc}", pos)]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem("yaml.syntax", f"YAML 格式错误：{exc}", Position(name, 1, 1))]) from None
    except RecursionError:
        raise InputError([Problem("yaml.depth", "YAML 嵌套层数过多", Position(name, 1, 1))]) from None
    finally:
        loader.dispose()


def _reject_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateJsonKey(key)
        seen[key] = value
    return seen


class _DuplicateJsonKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def load_json_text(text: str, name: str) -> Any:
    _check_size(text, name)
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_pairs)
    except _DuplicateJsonKey as exc:
        raise InputError([Problem("json.duplicate_key", f"重复的键 {exc.key!r}", Position(name, 1, 1))]) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem("json.syntax", f"JSON 格式错误：{exc.msg}", Position(name, exc.lineno, exc.colno))]
        ) from None
    except RecursionError:
        raise InputError([Problem("json.depth", "JSON 嵌套层数过多", Position(name, 1, 1))]) from None
    except ValueError:
        # json refuses integers past Python's digit limit (4300) with a bare ValueError.
        raise InputError([Problem("json.number", "JSON 中有位数过多的数字", Position(name, 1, 1))]) from None


def read_text(path: Path) -> str:
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError([Problem("input.unreadable", f"无法读取文件：{exc.strerror}", Position(str(path), 1, 1))]) from None
    if not stat.S_ISREG(info.st_mode):
        # A folder, or a device such as /dev/zero whose size says 0 and whose reading never ends.
        raise InputError([Problem("input.not_a_file", "不是普通文件（是目录或设备）", Position(str(path), 1, 1))])
    if info.st_size > MAX_FILE_BYTES:
        raise InputError(
            [Problem("input.too_large", f"文件过大（{info.st_size} 字节，上限 {MAX_FILE_BYTES} 字节）", Position(str(path), 1, 1))]
        )
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError([Problem("input.unreadable", f"无法读取文件：{exc.strerror}", Position(str(path), 1, 1))]) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem("input.encoding", f"文件不是 UTF-8 编码（第 {exc.start} 字节）", Position(str(path), 1, 1))]
        ) from None


def load_yaml_file(path: Path) -> Any:
    return load_yaml_text(read_text(path), str(path))


def position_of(root: Any, path: tuple[Any, ...], fallback: Position | None) -> Position | None:
    """Walk a pydantic error location through LocDict/LocList to a position."""
    node = root
    best: Any = None  # the deepest (file, mark) reached, or a Position
    for step in path:
        if isinstance(node, LocDict) and step in node:
            mark = node._key_marks.get(step)
            if mark is not None:
                best = (node._file, mark)
            node = node[step]
        elif isinstance(node, LocList) and isinstance(step, int) and 0 <= step < len(node):
            best = node.item_where(step) or best
            node = node[step]
        else:
            break
        if not isinstance(node, (LocDict, LocList)):
            inner = getattr(node, "pos", None)
            if inner is not None:
                best = inner
    if best is None:
        return getattr(root, "pos", None) or fallback
    return _mark_pos(*best) if isinstance(best, tuple) else best


# --------------------------------------------------------------------------- joining located trees
# A document version that inherits another's clauses or rules is assembled from two files'
# trees. The joined containers keep every part's own positions, so errors and test cases in
# inherited parts still name the base file's lines.


def entries_of(items: Any) -> list[tuple[Any, tuple[str, Any] | None]]:
    """Each item of a located list with where it was written, to be placed in another list."""
    if isinstance(items, LocList):
        return [(value, items.item_where(i)) for i, value in enumerate(items)]
    return [(value, None) for value in items or ()]


def joined_list(entries: list[tuple[Any, tuple[str, Any] | None]], like: Any = None) -> LocList:
    """A located list of ``entries`` (value, where) from any files; it starts where ``like`` does."""
    result = LocList(value for value, _ in entries)
    if isinstance(like, LocList):
        result._file, result._mark = like._file, like._mark
    result._item_files = [where[0] if where else "" for _, where in entries]
    result._item_marks = [where[1] if where else None for _, where in entries]
    return result


def with_values(mapping: Any, values: dict[Any, Any]) -> LocDict:
    """A copy of a located mapping with some values replaced or added (positions of its keys kept)."""
    result = LocDict(mapping)
    if isinstance(mapping, LocDict):
        result._file, result._mark, result._key_marks = mapping._file, mapping._mark, dict(mapping._key_marks)
    result.update(values)
    return result
