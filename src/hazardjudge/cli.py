"""The ``hazardjudge`` command.

Exit codes (stable, documented in docs/cli.md):

==  ===========================================================
0   judge: 未发现重大隐患; lint/test: clean
1   judge: 存在重大隐患; lint: errors; test: failing cases
2   judge: 无法判定 (undetermined)
64  usage error (bad option or argument)
65  input data error (facts that cannot be read)
66  input file missing or unreadable
70  internal error (a bug: please report it with the input)
73  an output file (-o, --junit) cannot be written
78  bundle error (criteria/rules folders do not load)
130 interrupted
==  ===========================================================

batch/rejudge: 0 every record judged, 65 some records unreadable (listed), 70 an
internal failure on some record (listed); see docs/batch.md.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from hazardjudge import clock
from hazardjudge.errors import BundleError, EngineError, HazardJudgeError, InputError, Position, Problem, suggest, validation_message_zh
from hazardjudge.register import commands as register_commands

EXIT_NONE, EXIT_MAJOR, EXIT_UNDETERMINED = 0, 1, 2
EXIT_USAGE, EXIT_DATAERR, EXIT_NOINPUT, EXIT_SOFTWARE, EXIT_CANTCREAT, EXIT_CONFIG = 64, 65, 66, 70, 73, 78
INPUT_FORMATS = ("yaml", "json", "lines", "csv", "tsv", "xlsx")
VIEWS = ("findings", "full")  # hazardjudge.batch.views.VIEWS, named here so --help needs no import


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors, which would read as "undetermined"."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 错误：{message}\n")


def _overlay_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overlay", action="append", type=Path, default=[], metavar="FOLDER",
        help="叠加层目录（含 overlay.yaml，可重复，按顺序叠加；另见环境变量 HAZARDJUDGE_OVERLAYS）",
    )


def _bundle_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--criteria", type=Path, help="criteria 目录（默认：随包提供的判定标准）")
    p.add_argument("--rules", type=Path, help="rules 目录（默认：随包提供的规则）")
    _overlay_arg(p)


def _overlays(args: argparse.Namespace, extra: Sequence[Path] = ()) -> list[Path]:
    """HAZARDJUDGE_OVERLAYS first, then each --overlay (and ``extra``) in order, each folder once."""
    from hazardjudge.api import environment_overlays

    out: list[Path] = []
    for path in [*environment_overlays(), *getattr(args, "overlay", []), *extra]:
        if all(path.resolve() != p.resolve() for p in out):
            out.append(path)
    return out


def _dirs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    root = getattr(args, "root", None)
    criteria, rules = args.criteria, args.rules
    if root is not None:
        criteria = criteria or root / "criteria"
        rules = rules or root / "rules"
    return criteria, rules


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hazardjudge", description="按已发布的判定标准判定重大事故隐患，并给出条款依据。")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    judge = sub.add_parser("judge", help="判定一次检查的事实")
    judge.add_argument("file", help="检查记录（YAML 或 JSON）；- 表示标准输入")
    judge.add_argument("--on", help="检查日期，如 2026-11-01（默认：记录中的 date，其次今天）")
    judge.add_argument("--sector", action="append", dest="sectors", help="指定行业（可重复），如 city_gas")
    judge.add_argument("--format", choices=("text", "json"), default="text")
    judge.add_argument("--input-format", choices=INPUT_FORMATS, help="输入格式（默认自动识别）：YAML、JSON、聊天记录式“问题：回答”、CSV、制表符分隔、XLSX")
    judge.add_argument("--site", action="append", help="单位类型（site.kinds 的取值，可重复），用于按编号对应检查表")
    _bundle_args(judge)
    register_commands.add_record_args(judge)

    lint = sub.add_parser("lint", help="校验 criteria、facts 和 rules")
    lint.add_argument("root", nargs="?", type=Path, help="含 criteria/ 和 rules/ 的目录")
    lint.add_argument("--strict", action="store_true", help="警告也视为错误")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    _bundle_args(lint)

    test = sub.add_parser("test", help="运行规则旁的 YAML 测试用例")
    test.add_argument("root", nargs="?", type=Path, help="含 criteria/ 和 rules/ 的目录")
    test.add_argument("-v", "--verbose", action="store_true", help="列出每个用例")
    _bundle_args(test)

    test.add_argument("--junit", type=Path, help="另外写出 JUnit XML 报告到该文件")

    cov = sub.add_parser("coverage", help="条款编码、核验、测试覆盖和条件分支覆盖")
    cov.add_argument("root", nargs="?", type=Path, help="含 criteria/ 和 rules/ 的目录")
    cov.add_argument("--format", choices=("text", "html"), default="text")
    cov.add_argument("-o", "--output", type=Path, help="写入文件（默认：标准输出）")
    _bundle_args(cov)

    diff = sub.add_parser("diff", help="比较两个规则包：逐条款的变化，以及结果改变的测试用例和检查记录")
    diff.add_argument("old", type=Path, nargs="?", help="旧版本目录（含 criteria/ 和 rules/）；与 --versions 同用时为规则包目录（默认：内置规则包）")
    diff.add_argument("new", type=Path, nargs="?", help="新版本目录（含 criteria/ 和 rules/）")
    diff.add_argument("--versions", nargs=2, metavar=("旧版本", "新版本"),
                      help="比较同一规则包中同一文件的两个版本，写成 文件@版本，如 metal_mine_major_hazard@2022 metal_mine_major_hazard@2022+2024")
    diff.add_argument("--inspections", type=Path, nargs="*", default=[], help="需要重新判定的已存检查记录文件")
    diff.add_argument("--on", help="重新判定检查记录时使用的日期（默认：记录中的 date）")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    _overlay_arg(diff)
    diff.add_argument("--new-overlay", action="append", type=Path, default=[], metavar="FOLDER",
                      help="只叠加在新版本上的叠加层（可重复）：看该叠加层改变了什么")

    explain = sub.add_parser("explain", help="给出一次判定的完整推理过程")
    explain.add_argument("file", help="检查记录（YAML 或 JSON）；- 表示标准输入")
    explain.add_argument("--on", help="检查日期（默认：记录中的 date，其次今天）")
    explain.add_argument("--sector", action="append", dest="sectors", help="指定行业（可重复）")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.add_argument("--input-format", choices=INPUT_FORMATS)
    explain.add_argument("--site", action="append", help="单位类型（site.kinds 的取值，可重复）")

    notice = sub.add_parser("notice", help="根据判定结果生成整改通知书（或补充检查单）")
    notice.add_argument("file", help="检查记录（YAML、JSON 或粘贴的回答）；- 表示标准输入")
    notice.add_argument("--config", type=Path, help="通知书设置（YAML）：执法机关、文号、单位、检查人员、整改期限等")
    notice.add_argument("--authority", help="执法机关名称")
    notice.add_argument("--number", help="文书编号（文号）")
    notice.add_argument("--sequence", type=int, help="本通知书的序号，按设置中的 document_number_pattern 生成文号")
    notice.add_argument("--issue-date", help="签发日期（默认今天；不得早于检查日期）")
    notice.add_argument("--inspector", action="append", help="检查人员（可重复）")
    notice.add_argument("--templates", type=Path, help="本单位的模板目录（覆盖同名模板）")
    notice.add_argument("--on", help="检查日期")
    notice.add_argument("--sector", action="append", dest="sectors")
    notice.add_argument("--site", action="append")
    notice.add_argument("--input-format", choices=INPUT_FORMATS)
    notice.add_argument("--format", choices=("html", "md", "txt", "pdf", "docx"), default="html",
                        help="html、md、txt，或可签章归档的 pdf、可在 Word/WPS 中编辑的 docx（须同时给 -o）")
    notice.add_argument("-o", "--output", type=Path, help="写入文件（默认：标准输出）")
    _bundle_args(notice)

    serve = sub.add_parser("serve", help="启动 HTTP 接口和网页（默认只监听本机）")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="工作进程数（每个进程各自加载规则包）")
    serve.add_argument("--limit-concurrency", type=int, default=64, help="每个进程同时处理的请求上限，超过时返回 503 并提示稍后重试")
    serve.add_argument("--request-timeout", type=float, default=15.0, help="一个请求（请求头和请求体）须在多少秒内发送完毕，超时返回 408 并断开")
    serve.add_argument("--max-connections", type=int, default=1000, help="每个进程同时打开的连接上限，超过时新连接返回 503")
    serve.add_argument("--db", help="隐患台账数据库地址（默认取环境变量 HAZARDJUDGE_DB）：给出时同时提供台账接口 /api/register 和网页 /register")
    _bundle_args(serve)

    checklist = sub.add_parser("checklist", help="生成检查表（只含适用的问题）")
    checklist.add_argument("--sector", action="append", dest="sectors", help="指定行业（可重复）")
    checklist.add_argument("--site", action="append", help="单位类型（site.kinds 的取值，可重复），据此筛选行业")
    checklist.add_argument("--on", help="检查日期（默认今天），决定适用的文件版本")
    checklist.add_argument(
        "--format", choices=("md", "chat", "csv", "tsv", "xlsx", "yaml", "json"), default="md",
        help="md：Markdown；chat：发到微信等聊天的简短问题单；csv/tsv/xlsx：表格；yaml/json：结构化记录",
    )
    checklist.add_argument("-o", "--output", type=Path, help="写入文件（xlsx 必须指定）")
    _bundle_args(checklist)
    _bundle_args(explain)

    sub.add_parser("schema", help="输出判定结果（verdict）的 JSON Schema")
    register_commands.add_parser(sub)

    batch = sub.add_parser("batch", help="批量判定：JSON Lines（每行一条检查记录，带 id）或含 YAML/JSON 检查记录的目录，按输入顺序逐行写出结果")
    batch.add_argument("input", help="JSON Lines 文件（- 表示标准输入），或含 YAML/JSON 检查记录的目录")
    batch.add_argument("-o", "--output", required=True, help="结果写入的 JSON Lines 文件（- 表示标准输出）")
    batch.add_argument("--view", choices=VIEWS, default="findings", help="findings：结论、重大隐患及其条款和依据的回答、未能判定的条款（默认）；full：完整判定结果")
    _run_args(batch)
    batch.add_argument("--resume", action="store_true", help="从上次中断处继续：已写入输出的记录不再判定")
    _bundle_args(batch)

    rejudge = sub.add_parser("rejudge", help="用新旧两个规则包重新判定已存检查记录：哪些结论改变、逐条款的变化、按行业和变化类型计数")
    rejudge.add_argument("input", help="JSON Lines 文件（- 表示标准输入），或含 YAML/JSON 检查记录的目录")
    rejudge.add_argument("--old", type=Path, help="旧规则包目录（含 criteria/ 和 rules/）")
    rejudge.add_argument("--new", type=Path, help="新规则包目录（含 criteria/ 和 rules/；默认：随包提供的规则包）")
    for side in ("old", "new"):
        rejudge.add_argument(f"--{side}-criteria", type=Path, help=f"{'旧' if side == 'old' else '新'}规则包的 criteria 目录（替代 --{side} 下的）")
        rejudge.add_argument(f"--{side}-rules", type=Path, help=f"{'旧' if side == 'old' else '新'}规则包的 rules 目录（替代 --{side} 下的）")
    rejudge.add_argument("--format", choices=("text", "json"), default="text")
    rejudge.add_argument("-o", "--output", type=Path, help="报告写入文件（默认：标准输出）")
    rejudge.add_argument("--changes", help="另把每条结论或条款改变的检查记录写成 JSON Lines 到该文件")
    _run_args(rejudge)
    return parser


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, help="本机工作进程数（默认：全部 CPU 核；1 表示在本进程内判定）；与 --dask local 合用时为 Dask 工作进程数")
    p.add_argument("--dask", metavar="local|ADDRESS", help="在 Dask 集群上运行：local 为本机 LocalCluster，或调度器地址如 tcp://scheduler:8786")
    p.add_argument("--errors", help="无法判定的行另写成 JSON Lines 到该文件（默认：逐条打印到标准错误）")


# Commands that read one inspection or bundle, write one report and exit.
ONE_SHOT = {"judge", "explain", "notice", "checklist", "lint", "schema"}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Called without argv, main() is the command's own process (not a test or a library
    # caller), which a batch may settle (hazardjudge.engine.heap.settle) when it judges in-process.
    args.own_process = argv is None
    # A one-shot command lives well under a second: the cyclic collector's passes over the
    # modules it imports and the bundle it loads freed nothing and took ~5% of a `judge`
    # run. Restored on return, since main() also runs inside other processes (the tests).
    # At exit the interpreter still runs full collections while it tears the modules down,
    # walking all of that once more just before reference counting frees it (~25 ms);
    # objects frozen by then are skipped. (unregister first: main() may run many times.)
    was_enabled = gc.isenabled()
    if args.command in ONE_SHOT:
        # pydantic looks for plugins in every installed distribution's entry points when it
        # builds its first model (~8 ms of a `judge` run); hazardjudge uses none. Set to
        # another value (e.g. "none") to keep third-party pydantic plugins.
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        gc.disable()
        atexit.unregister(gc.freeze)
        atexit.register(gc.freeze)
    try:
        commands = {
            "judge": _judge,
            "lint": _lint,
            "test": _test,
            "coverage": _coverage,
            "diff": _diff,
            "explain": _explain,
            "checklist": _checklist,
            "notice": _notice,
            "serve": _serve,
            "schema": _schema,
            "register": register_commands.run,
            "batch": _batch,
            "rejudge": _rejudge,
        }
        return commands[args.command](args)
    except HazardJudgeError as exc:
        # Raised past a command's own handling (a sector named in a file, say): still the
        # user's input or bundle, never a verdict's exit code.
        _print_problems(exc.problems)
        return EXIT_CONFIG if isinstance(exc, BundleError) else EXIT_DATAERR
    except _CannotWrite as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CANTCREAT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        # A traceback exits 1, which a script reads as 存在重大隐患: any bug ends as 70 with one line.
        if os.environ.get("HAZARDJUDGE_DEBUG"):
            raise
        kind = "durable_rules 拒绝了断言" if isinstance(exc, EngineError) else type(exc).__name__
        print(f"内部错误（请连同输入一起报告；设置 HAZARDJUDGE_DEBUG=1 可看到详细信息）：{kind}：{exc}".splitlines()[0], file=sys.stderr)
        return EXIT_SOFTWARE
    finally:
        if was_enabled:
            gc.enable()


class _CannotWrite(Exception):
    """An output file could not be written (missing folder, no permission, a directory)."""


def _write(path: Path, content: str | bytes) -> None:
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as exc:
        import errno

        reason = {errno.ENOENT: "所在目录不存在", errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限",
                  errno.EISDIR: "这是一个目录", errno.ENOSPC: "磁盘空间不足", errno.EROFS: "文件系统只读"}.get(exc.errno, exc.strerror)
        raise _CannotWrite(f"无法写入输出文件 {path}：{reason}") from None


def _emit(text: str, output: Path | None) -> None:
    """Write a report to the ``-o`` file, or to stdout."""
    if output:
        _write(output, text)
    else:
        sys.stdout.write(text)


def _print_problems(problems, stream=None) -> None:
    for p in problems:
        print(str(p), file=stream or sys.stderr)


def _load(args: argparse.Namespace):
    from hazardjudge.api import load

    try:
        return load(*_dirs(args), overlays=_overlays(args))
    except BundleError as exc:
        print("规则包无法加载：", file=sys.stderr)
        _print_problems(exc.problems)
        return None


class Read(NamedTuple):
    engine: Any
    answers: Any
    on: Any
    sectors: list[str] | None
    unit: dict[str, Any]
    general_hazards: list[Any] = []


def _read_inspection(args: argparse.Namespace) -> "Read | int":
    """The judged inspection's engine, answers, date, sectors and unit details, or an exit code.

    YAML and JSON inspections are strict: any unreadable answer stops the judgement.
    Pasted forms (chat lines, CSV, tab-separated, XLSX) are read answer by answer:
    what cannot be read is reported and stays unanswered.
    """
    from hazardjudge.engine.yamlio import MAX_FILE_BYTES
    from hazardjudge.inputs import observations
    from hazardjudge.inputs.inspections import decode_text, detect, is_blank, parse_date, parse_inspection

    try:
        if args.file == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read(MAX_FILE_BYTES + 1) if stream else sys.stdin.read(MAX_FILE_BYTES + 1).encode("utf-8")
            name = "<stdin>"
        else:
            path = Path(args.file)
            if not path.is_file():
                what = "不是普通文件（是目录或设备）" if path.exists() else "找不到检查记录文件"
                print(f"{what}：{path}", file=sys.stderr)
                return EXIT_NOINPUT
            try:
                with path.open("rb") as stream:  # never more than the limit into memory
                    data, name = stream.read(MAX_FILE_BYTES + 1), str(path)
            except OSError as exc:
                print(f"无法读取检查记录文件：{path}：{exc.strerror}", file=sys.stderr)
                return EXIT_NOINPUT
        if len(data) > MAX_FILE_BYTES:
            raise InputError([Problem("input.too_large", f"输入过大（超过 {MAX_FILE_BYTES} 字节）", None)])
        on = parse_date(args.on) if args.on else None
        encoding, text = None, None
        if not (args.input_format == "xlsx" or (args.input_format is None and data[:2] == b"PK")):
            text, encoding = decode_text(data, name)
            if is_blank(text):
                # Judged, an empty file is 无法判定 with every question open: the wrong file, or a save that failed.
                raise InputError([Problem("input.empty", "文件是空的，没有任何回答（是否选错了文件或保存失败？）", Position(name, 1, 1))])
        fmt = args.input_format or detect(text if text is not None else data)
        if fmt in ("yaml", "json"):
            if encoding:
                # The bundle and inspection files are UTF-8 by contract; only pasted forms are guessed.
                raise InputError([Problem("input.encoding", f"YAML/JSON 检查记录须为 UTF-8 编码（此文件似为 {encoding}）", None)])
            parsed = parse_inspection(text, name, fmt)

    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_DATAERR
    engine = _load(args)
    if engine is None:
        return EXIT_CONFIG
    if fmt not in ("yaml", "json"):
        # Only pasted forms need the paste reader (and rapidfuzz, the checklists): ~10% of a YAML judge's start.
        from hazardjudge.inputs.pasting import refused

        site = {"site.kinds": args.site} if getattr(args, "site", None) else None
        try:
            answers, pasted = engine.paste(data, on=on, sectors=args.sectors, site=site, fmt=fmt, source=name)
        except InputError as exc:
            _print_problems(exc.problems)
            return EXIT_DATAERR
        if problems := refused(pasted):
            _print_problems(problems)
            return EXIT_DATAERR
        for m in pasted.matches:
            if m.how == "question" and m.score < 1.0:  # close wording, not the question itself
                print(f"{name}:{m.line}: 按问题文字匹配（相似度 {m.score}）：“{m.text[:40]}” → {m.fact}", file=sys.stderr)
        if any(p.severity == "error" for p in pasted.problems):
            print("以下回答未能识别，按未回答处理（相关条款将显示为无法判定）：", file=sys.stderr)
        _print_problems(pasted.problems)
        # A filled checklist says which date and sectors chose it; options given here override it.
        return Read(engine, answers, pasted.on or clock.today(), pasted.sectors, {}, pasted.general_hazards)
    inspection = parsed.inspection
    try:
        answers = engine.read(inspection.facts, parsed.positions)
    except InputError as exc:
        print("检查记录中有无法识别的回答，未作判定：", file=sys.stderr)
        _print_problems(exc.problems)
        return EXIT_DATAERR
    if problems := observations.check_categories(inspection.general_hazards, engine.bundle):
        _print_problems(problems)
        return EXIT_DATAERR
    return Read(
        engine, answers, on or inspection.on or clock.today(), args.sectors or inspection.sectors, parsed.unit, inspection.general_hazards
    )


def _judge(args: argparse.Namespace) -> int:
    from hazardjudge.outputs.rendering import render_text

    read = _read_inspection(args)
    if isinstance(read, int):
        return read
    verdict = read.engine.judge(read.answers, on=read.on, sectors=read.sectors, general_hazards=read.general_hazards)
    if args.format == "json":
        sys.stdout.write(verdict.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(render_text(verdict))
    if args.record and (code := register_commands.record(args, read, verdict)):
        return code
    return _verdict_exit(verdict)


def _verdict_exit(verdict) -> int:
    from hazardjudge.engine.models import OverallOutcome

    return {
        OverallOutcome.major: EXIT_MAJOR,
        OverallOutcome.none: EXIT_NONE,
        OverallOutcome.undetermined: EXIT_UNDETERMINED,
    }[verdict.outcome]


def _explain(args: argparse.Namespace) -> int:
    from hazardjudge.outputs.explaining import explain, render_text

    read = _read_inspection(args)
    if isinstance(read, int):
        return read
    result = explain(read.engine, read.answers, read.on, read.sectors, read.general_hazards)
    if args.format == "json":
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(render_text(result))
    return _verdict_exit(result.verdict)


def _notice(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from hazardjudge.engine.yamlio import load_yaml_file
    from hazardjudge.inputs.inspections import parse_date
    from hazardjudge.outputs import notices

    binary = args.format in ("pdf", "docx")
    if binary and args.output is None:
        print(f"--format {args.format} 生成的是文件，请用 -o 指定保存位置，如 -o 通知书.{args.format}", file=sys.stderr)
        return EXIT_USAGE
    read = _read_inspection(args)
    if isinstance(read, int):
        return read
    try:
        raw = load_yaml_file(args.config) if args.config else {}
        if not isinstance(raw, dict):
            raise InputError([Problem("notice.config", "通知书设置文件的顶层必须是映射", None)])
        settings = dict(raw)
        if args.authority:
            settings["authority"] = args.authority
        if args.number:
            settings["document_number"] = args.number
        if args.sequence is not None:
            settings["sequence"] = args.sequence
        if args.issue_date:
            settings["issue_date"] = parse_date(args.issue_date)
        if args.inspector:
            settings["inspectors"] = args.inspector
        if args.templates:
            settings["template_dir"] = args.templates
        if "unit" not in settings and read.unit:
            settings["unit"] = read.unit
        config = notices.NoticeConfig.model_validate(settings)
        verdict = read.engine.judge(read.answers, on=read.on, sectors=read.sectors, general_hazards=read.general_hazards)
        notice = notices.build(verdict, config)
    except notices.NothingToNotice as exc:
        print(f"{exc}。", file=sys.stderr)
        return _verdict_exit(verdict)
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_DATAERR
    except ValidationError as exc:
        _print_problems(_settings_problems(exc, raw, args.config))
        return EXIT_DATAERR
    if binary:
        from hazardjudge.outputs import printing

        if args.format == "pdf" and printing.cjk_font_installed() is False:
            print(f"注意：本机没有中文字体，PDF 中的汉字将无法显示（Debian：apt-get install {printing.CJK_FONT_PACKAGE}）", file=sys.stderr)
        try:
            data = printing.pdf(notice) if args.format == "pdf" else printing.docx(notice)
        except printing.PrintingUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_CONFIG
        args.output.write_bytes(data)
    else:
        _emit(notices.render(notice, args.format), args.output)
    for note in dict.fromkeys(i.deadline_note for i in [*notice.items, *notice.general_hazards] if i.deadline_note):
        print(f"注意：{note}", file=sys.stderr)
    if not notice.legal_basis_configured and notice.kind != "supplementary":
        print(f"注意：通知书中的法律依据尚未设置，已留占位文字{notice.legal_basis}", file=sys.stderr)
    return _verdict_exit(verdict)


_SETTING_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")


def _settings_problems(exc, raw: dict, path: Path | None) -> list[Problem]:
    """The notice settings' errors, without echoing what is not a setting.

    ``--config /etc/shadow`` parses as a mapping of its lines: each became an "unknown key"
    error that printed the line. A file with no known setting at all is one error; an
    unknown key is shown only when it looks like a setting's name (a typo, worth showing).
    """
    from hazardjudge.engine.yamlio import position_of
    from hazardjudge.outputs.notices import NoticeConfig

    known = set(NoticeConfig.model_fields)
    where = Position(str(path), 1, 1) if path else None
    if raw and not known & set(map(str, raw)):
        return [Problem("notice.config", f"这不是通知书设置文件：没有任何已知的设置项（可用：{'、'.join(sorted(known))}）", where)]
    problems = []
    for err in exc.errors()[:20]:
        loc = err["loc"]
        shown = [str(step) if isinstance(step, int) or _SETTING_KEY.fullmatch(str(step)) else "（无法显示的键）" for step in loc]
        pos = position_of(raw, loc, where) if path else None
        problems.append(Problem("notice.config", f"通知书设置有误：{'.'.join(shown)}：{validation_message_zh(err)}", pos))
    return problems


def _serve(args: argparse.Namespace) -> int:
    from hazardjudge.service.server import serve

    if min(args.workers, args.limit_concurrency, args.max_connections) < 1 or not 0 < args.request_timeout <= 3600:
        print("--workers、--limit-concurrency、--max-connections 须为正整数，--request-timeout 须在 0 到 3600 秒之间", file=sys.stderr)
        return EXIT_USAGE
    engine = _load(args)  # also checks the bundle before any worker starts
    if engine is None:
        return EXIT_CONFIG
    criteria, rules = _dirs(args)
    from hazardjudge.api import OVERLAYS_ENV

    # Worker processes load the bundle themselves: they read the same overlays from the environment.
    os.environ[OVERLAYS_ENV] = os.pathsep.join(str(p) for p in engine.bundle.overlay_dirs)
    serve(
        args.host, args.port, engine, args.workers, (criteria, rules), args.limit_concurrency,
        args.request_timeout, args.max_connections, db=args.db or os.environ.get("HAZARDJUDGE_DB") or None,
    )
    return EXIT_NONE


def _checklist(args: argparse.Namespace) -> int:
    from hazardjudge.inputs import checklists
    from hazardjudge.inputs.inspections import parse_date

    engine = _load(args)
    if engine is None:
        return EXIT_CONFIG
    try:
        on = parse_date(args.on) if args.on else clock.today()
        site = {"site.kinds": args.site} if args.site else None
        checklist = checklists.build(engine, on, args.sectors, site)
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_DATAERR
    if args.format == "xlsx":
        if args.output is None:
            print("xlsx 格式需要用 -o 指定输出文件", file=sys.stderr)
            return EXIT_USAGE
        _write(args.output, checklists.to_xlsx(checklist))
        return EXIT_NONE
    text = checklists.RENDERERS[args.format](checklist)
    _emit(text, args.output)
    return EXIT_NONE


def _coverage(args: argparse.Namespace) -> int:
    from hazardjudge.authoring import coverage

    engine = _load(args)
    if engine is None:
        return EXIT_CONFIG
    report = coverage.compute(engine)
    text = coverage.render_html(report) if args.format == "html" else coverage.render_text(report)
    _emit(text, args.output)
    return EXIT_NONE


def _diff(args: argparse.Namespace) -> int:
    from hazardjudge.api import load
    from hazardjudge.authoring.diffing import diff, diff_versions, render_text
    from hazardjudge.inputs.inspections import parse_date

    if args.versions:
        if args.new is not None or args.inspections or args.new_overlay:
            print("--versions 比较一个规则包内的两个版本：只能给一个规则包目录，不能同时给 --inspections 或 --new-overlay", file=sys.stderr)
            return EXIT_USAGE
        try:
            engine = load(args.old / "criteria" if args.old else None, args.old / "rules" if args.old else None, overlays=_overlays(args))
        except BundleError as exc:
            _print_problems(exc.problems)
            return EXIT_CONFIG
        try:
            report = diff_versions(engine, *args.versions)
        except (KeyError, ValueError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            known = sorted(engine.bundle.documents)
            print(f"错误：{message}", file=sys.stderr)
            for key in args.versions:
                if key not in engine.bundle.documents and (close := suggest(key, known)):
                    print(f"  提示：{key} {close}", file=sys.stderr)
            return EXIT_USAGE
    elif args.old is None or args.new is None:
        print("diff 需要旧版本和新版本两个目录，或 --versions 文件@旧版本 文件@新版本", file=sys.stderr)
        return EXIT_USAGE
    else:
        report = None
    if report is not None:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n" if args.format == "json" else render_text(report))
        return EXIT_NONE

    engines = []
    for root, overlays in ((args.old, _overlays(args)), (args.new, _overlays(args, args.new_overlay))):
        try:
            engines.append(load(root / "criteria", root / "rules", overlays=overlays))
        except BundleError as exc:
            print(f"{root} 无法加载：", file=sys.stderr)
            _print_problems(exc.problems)
            return EXIT_CONFIG
    try:
        on = parse_date(args.on) if args.on else None
        report = diff(engines[0], engines[1], args.inspections, on)
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_DATAERR
    if args.format == "json":
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(render_text(report))
    return EXIT_NONE


def _workers(args: argparse.Namespace) -> int | None:
    from hazardjudge.batch.running import default_workers

    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        print("--workers 须为正整数", file=sys.stderr)
        return None
    return workers


def _batch(args: argparse.Namespace) -> int:
    from hazardjudge.batch.judging import Job
    from hazardjudge.batch.running import ClusterError, run_batch
    from hazardjudge.batch.sources import Source

    source = Source(args.input)
    if not source.exists():
        print(f"找不到输入：{args.input}", file=sys.stderr)
        return EXIT_NOINPUT
    if args.resume and args.output == "-":
        print("--resume 需要输出文件（-o FILE），不能写到标准输出", file=sys.stderr)
        return EXIT_USAGE
    workers = _workers(args)
    if workers is None:
        return EXIT_USAGE
    engine = _load(args)
    if engine is None:
        return EXIT_CONFIG
    try:
        summary = run_batch(
            source, args.output, Job(engine, args.view, clock.today()), workers=workers, dask=args.dask,
            resume=args.resume, errors=args.errors, stderr=sys.stderr, progress=sys.stderr.isatty(),
            own_process=args.own_process,
        )
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_DATAERR
    except ClusterError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    print(summary.text(), file=sys.stderr)
    return _batch_exit(summary)


def _batch_exit(summary) -> int:
    if summary.interrupted:
        return 130
    if summary.internal:
        return EXIT_SOFTWARE
    return EXIT_DATAERR if summary.failed else EXIT_NONE


def _bundle_side(args: argparse.Namespace, side: str) -> tuple[Path | None, Path | None] | None:
    root = getattr(args, side)
    criteria, rules = getattr(args, f"{side}_criteria"), getattr(args, f"{side}_rules")
    if root is not None:
        criteria, rules = criteria or root / "criteria", rules or root / "rules"
    if side == "old" and (criteria is None or rules is None):
        return None
    return criteria, rules


def _rejudge(args: argparse.Namespace) -> int:
    from hazardjudge.api import load
    from hazardjudge.authoring.diffing import diff, render_text as diff_text
    from hazardjudge.batch.rejudging import RejudgeJob, render_text, run_rejudge
    from hazardjudge.batch.running import ClusterError
    from hazardjudge.batch.sources import Source

    source = Source(args.input)
    if not source.exists():
        print(f"找不到输入：{args.input}", file=sys.stderr)
        return EXIT_NOINPUT
    old_dirs = _bundle_side(args, "old")
    if old_dirs is None:
        print("需要旧规则包：--old DIR（含 criteria/ 和 rules/），或同时给出 --old-criteria 和 --old-rules", file=sys.stderr)
        return EXIT_USAGE
    workers = _workers(args)
    if workers is None:
        return EXIT_USAGE
    engines = []
    for label, dirs in (("旧", old_dirs), ("新", _bundle_side(args, "new"))):
        try:
            engines.append(load(*dirs))
        except BundleError as exc:
            print(f"{label}规则包无法加载：", file=sys.stderr)
            _print_problems(exc.problems)
            return EXIT_CONFIG
    old, new = engines
    try:
        report, summary = run_rejudge(
            source, RejudgeJob(old, new, clock.today()), workers=workers, dask=args.dask, changes=args.changes,
            errors=args.errors, stderr=sys.stderr, progress=sys.stderr.isatty(), own_process=args.own_process,
        )
    except InputError as exc:
        _print_problems(exc.problems)
        return EXIT_DATAERR
    except ClusterError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    bundles = diff(old, new)  # what changed in the criteria and rules themselves, and in their test cases
    if args.format == "json":
        text = json.dumps({"bundle": bundles.model_dump(mode="json"), "inspections": report.model_dump(mode="json")}, ensure_ascii=False, indent=2) + "\n"
    else:
        titles = {sid: loc.model.title for e in engines for sid, loc in e.bundle.sectors.items()}
        text = render_text(report, titles) + "规则包本身的变化：\n" + diff_text(bundles)
    _emit(text, args.output)
    print(summary.text(), file=sys.stderr)
    return _batch_exit(summary)


def _lint(args: argparse.Namespace) -> int:
    from hazardjudge.api import Engine
    from hazardjudge.authoring.linting import semantic_problems
    from hazardjudge.engine.loading import load_bundle

    try:
        bundle = load_bundle(*_dirs(args), _overlays(args))
        problems = sorted(bundle.warnings + semantic_problems(bundle), key=lambda p: p.sort_key())
        failed = any(p.severity == "error" for p in problems) or (args.strict and bool(problems))
        if not any(p.severity == "error" for p in problems):
            # Compiling and creating every ruleset is part of the check (a bundle with logic
            # errors is refused there too, which would hide its warnings).
            Engine(bundle)._evaluator.warm()
    except BundleError as exc:
        problems, failed = exc.problems, True
    except EngineError as exc:
        print(f"durable_rules 拒绝了编译结果：{exc}", file=sys.stderr)
        return EXIT_MAJOR
    if args.format == "json":
        out = [
            {
                "file": p.position.file if p.position else None,
                "line": p.position.line if p.position else None,
                "column": p.position.column if p.position else None,
                "severity": p.severity,
                "code": p.code,
                "message": p.message,
                "hint": p.hint,
            }
            for p in problems
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _print_problems(problems, sys.stdout)
        errors = sum(p.severity == "error" for p in problems)
        print(f"{errors} 个错误，{len(problems) - errors} 个警告")
    return EXIT_MAJOR if failed else EXIT_NONE


def _test(args: argparse.Namespace) -> int:
    from hazardjudge.authoring.testing import run_all

    engine = _load(args)
    if engine is None:
        return EXIT_CONFIG
    results = run_all(engine)
    failed = [r for r in results if not r.passed]
    for r in results:
        if args.verbose or not r.passed:
            mark = "通过" if r.passed else "失败"
            print(f"{mark}  {r.case.position}  {r.case.id}" + (f"：{r.message}" if r.message else ""))
    if args.junit:
        from hazardjudge.authoring.testing import junit_xml

        _write(args.junit, junit_xml(results))
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return EXIT_MAJOR if failed else EXIT_NONE


def _schema(args: argparse.Namespace) -> int:
    from hazardjudge.engine.models import Verdict

    print(json.dumps(Verdict.model_json_schema(), ensure_ascii=False, indent=2))
    return EXIT_NONE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
