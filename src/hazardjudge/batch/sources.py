"""Where a batch's inspections come from, read one at a time: JSON Lines or a folder of files.

Nothing here holds more than one record (and, for a folder, one directory listing).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO, Iterator

from hazardjudge.engine.yamlio import MAX_FILE_BYTES
from hazardjudge.batch.judging import Record

#: a line longer than an inspection file may be is reported, not read
MAX_LINE_BYTES = MAX_FILE_BYTES
FILE_FORMS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


class Source:
    """An input: ``-`` (standard input) or a file of JSON Lines, or a folder of YAML/JSON files."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.folder = path != "-" and Path(path).is_dir()

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == "-" else self.path

    def exists(self) -> bool:
        return self.path == "-" or Path(self.path).exists()

    def records(self) -> Iterator[Record]:
        """Records in order; an undecodable or oversized one comes as form ``unreadable`` with the reason as text."""
        return self._files() if self.folder else self._lines()

    def count(self) -> int | None:
        """How many records there are (for a progress bar), by a quick pass; None for standard input."""
        if self.path == "-":
            return None
        if self.folder:
            return sum(1 for _ in self._walk(Path(self.path)))
        n, blank = 0, True
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                n += block.count(b"\n")
                blank = block.endswith(b"\n")
        return n + (0 if blank else 1)

    # ------------------------------------------------------------------ JSON Lines

    def _open(self) -> BinaryIO:
        return sys.stdin.buffer if self.path == "-" else open(self.path, "rb")

    def _lines(self) -> Iterator[Record]:
        f = self._open()
        try:
            number = 0
            while True:
                raw = f.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                number += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while (rest := f.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass
                    yield Record(number, self.name, "unreadable", f"此行过长（超过 {MAX_LINE_BYTES} 字节），未读取")
                    continue
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield Record(number, self.name, "unreadable", "此行不是 UTF-8 编码的文本（JSON Lines 须为 UTF-8）")
                    continue
                if text.strip():
                    yield Record(number, self.name, "jsonl", text)
        finally:
            if f is not sys.stdin.buffer:
                f.close()

    # ------------------------------------------------------------------ folder

    def _walk(self, folder: Path) -> Iterator[Path]:
        # Sorted directory by directory: the same folder always gives the same order, and
        # no list of every file is held.
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            if e.is_dir():
                yield from self._walk(Path(e.path))
            elif Path(e.name).suffix.lower() in FILE_FORMS:
                yield Path(e.path)

    def _files(self) -> Iterator[Record]:
        root = Path(self.path)
        for number, path in enumerate(self._walk(root), 1):
            rel = path.relative_to(root).as_posix()
            try:
                data = path.read_bytes()[: MAX_FILE_BYTES + 1]
            except OSError as exc:
                yield Record(number, rel, "unreadable", f"无法读取文件：{exc.strerror or exc}", rel)
                continue
            if len(data) > MAX_FILE_BYTES:
                yield Record(number, rel, "unreadable", f"文件过大（超过 {MAX_FILE_BYTES} 字节），未读取", rel)
                continue
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                yield Record(number, rel, "unreadable", "YAML/JSON 检查记录须为 UTF-8 编码", rel)
                continue
            yield Record(number, rel, FILE_FORMS[path.suffix.lower()], text, rel)
