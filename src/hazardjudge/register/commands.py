"""``hazardjudge register …`` and ``hazardjudge judge FILE --record``.

Who acts: ``--user NAME`` (or ``HAZARDJUDGE_USER``); the password from ``HAZARDJUDGE_PASSWORD``,
else asked for on the terminal. ``register init`` creates the schema and, on an empty
register, the first supervisor. Exit codes beyond cli.py's: 65 refused input or workflow
step, 66 no such record, 75 changed by someone else (retry), 77 not allowed / wrong password.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hazardjudge.register.store import Register
    from hazardjudge.register.views import Actor

EXIT_OK, EXIT_DATAERR, EXIT_NOINPUT, EXIT_TEMPFAIL, EXIT_NOPERM, EXIT_USAGE = 0, 65, 66, 75, 77, 64
USER_ENV, PASSWORD_ENV, NEW_PASSWORD_ENV = "HAZARDJUDGE_USER", "HAZARDJUDGE_PASSWORD", "HAZARDJUDGE_NEW_PASSWORD"
GRADES = {"重大": "major", "一般": "general", "major": "major", "general": "general"}
ORIGINS = {"排查": "inspection", "自查": "self_check", "inspection": "inspection", "self_check": "self_check"}
STATUSES = {"发现": "found", "整改中": "rectifying", "待复查": "pending_review", "已销号": "closed",
            "found": "found", "rectifying": "rectifying", "pending_review": "pending_review", "closed": "closed"}


def _db_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="数据库地址（默认：环境变量 HAZARDJUDGE_DB，其次用户数据目录中的 SQLite 文件）")
    p.add_argument("--user", help=f"操作账号（默认：环境变量 {USER_ENV}）；密码取自 {PASSWORD_ENV}，否则在终端输入")


def _date(text: str) -> dt.date:
    from hazardjudge.engine.normalising import parse_date_text

    try:
        return parse_date_text(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _choice(table: dict[str, str]):
    def parse(text: str) -> str:
        if text not in table:
            raise argparse.ArgumentTypeError(f"可选：{'、'.join(k for k in table if not k.isascii())}")
        return table[text]
    return parse


def add_record_args(judge: argparse.ArgumentParser) -> None:
    """The options ``judge FILE --record`` adds (registered by cli.py)."""
    judge.add_argument("--record", action="store_true", help="判定后登记到隐患台账（检查记录、判定结果、每项隐患）")
    judge.add_argument("--unit-id", type=int, help="--record：台账中的单位编号（默认按检查记录 unit.name 查找，找不到则新建）")
    judge.add_argument("--town", help="--record 新建单位时：乡镇（街道）")
    judge.add_argument("--village", help="--record 新建单位时：村（社区）")
    judge.add_argument("--inspector", action="append", dest="record_inspectors", metavar="姓名:执法证号", help="--record：检查人员（可重复）")
    judge.add_argument("--origin", type=_choice(ORIGINS), default="inspection", help="--record：排查（默认）或 自查")
    _db_args(judge)


def add_parser(sub: Any) -> None:
    """``hazardjudge register …`` (registered by cli.py)."""
    reg = sub.add_parser("register", help="隐患台账：登记、整改、复查、销号、挂牌督办和月度报表")
    rs = reg.add_subparsers(dest="register_command", required=True, parser_class=type(reg))

    p = rs.add_parser("init", help="创建或升级台账数据库；台账为空时创建第一个督办负责人账号")
    _db_args(p)
    p.add_argument("--name", help="第一个账号的显示名")

    p = rs.add_parser("user", help="添加账号（督办负责人）；新账号的密码取自 HAZARDJUDGE_NEW_PASSWORD 或终端输入")
    _db_args(p)
    p.add_argument("username")
    p.add_argument("--role", required=True, help="inspector（检查人员）、supervisor（督办负责人）、enterprise（企业用户）、viewer（只读）")
    p.add_argument("--name", help="显示名")
    p.add_argument("--unit", type=int, action="append", default=[], help="企业用户所属单位编号（可重复）")

    p = rs.add_parser("unit", help="登记单位")
    _db_args(p)
    p.add_argument("name")
    for opt, help_ in (("--type", "单位类型"), ("--address", "地址"), ("--town", "乡镇（街道）"), ("--village", "村（社区）"),
                       ("--sector", "行业（如 fire、city_gas）"), ("--credit-code", "统一社会信用代码")):
        p.add_argument(opt, help=help_)

    p = rs.add_parser("units", help="列出单位")
    _db_args(p)
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = rs.add_parser("add", help="手工登记一项隐患")
    _db_args(p)
    p.add_argument("--unit", type=int, required=True, help="单位编号")
    p.add_argument("--grade", type=_choice(GRADES), required=True, help="重大 或 一般")
    p.add_argument("--description", required=True, help="隐患描述")
    p.add_argument("--found-on", type=_date, help="发现日期（默认今天）")
    p.add_argument("--location", help="隐患部位")
    p.add_argument("--citation", help="依据条款")
    p.add_argument("--origin", type=_choice(ORIGINS), default="inspection", help="排查（默认）或 自查")

    p = rs.add_parser("list", help="列出隐患（等级、条款、状态）")
    _db_args(p)
    p.add_argument("--status", type=_choice(STATUSES), action="append", help="发现、整改中、待复查、已销号（可重复）")
    p.add_argument("--grade", type=_choice(GRADES))
    p.add_argument("--unit", type=int)
    p.add_argument("--town")
    p.add_argument("--village")
    p.add_argument("--sector")
    p.add_argument("--overdue", action="store_true", help="只列逾期未整改的")
    p.add_argument("--supervised", action="store_true", help="只列挂牌督办中的")
    p.add_argument("--text", help="描述或单位名称中包含的文字")
    p.add_argument("--voided", action="store_true", help="包括已作废的")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = rs.add_parser("show", help="查看一项隐患及其全部记录")
    _db_args(p)
    p.add_argument("id", type=int)
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = rs.add_parser("update", help="落实五落实（责任、措施、资金、时限、预案）、整改期限或更正")
    _db_args(p)
    p.add_argument("id", type=int)
    for opt, help_ in (("--responsible", "责任（责任人）"), ("--measures", "措施"), ("--funds", "资金"), ("--time-limit", "时限"),
                       ("--plan", "预案"), ("--description", "更正描述"), ("--location", "更正部位")):
        p.add_argument(opt, help=help_)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--deadline", type=_date, help="整改期限（日期；落在节假日顺延到下一个工作日）")
    g.add_argument("--deadline-days", type=int, help="整改期限：自发现之日起的工作日天数")
    p.add_argument("--version", type=int, help="您看到的版本号（有人先改过则拒绝）")
    p.add_argument("--reason", help="修改原因")

    p = rs.add_parser("evidence", help="提交整改材料（说明和照片、文件），隐患转为待复查")
    _db_args(p)
    p.add_argument("id", type=int)
    p.add_argument("--note", default="", help="整改情况说明")
    p.add_argument("--file", type=Path, action="append", default=[], help="照片或 PDF（可重复）")
    p.add_argument("--version", type=int)

    p = rs.add_parser("review", help="复查：--pass 通过（可销号），--fail 不通过（退回整改中）")
    _db_args(p)
    p.add_argument("id", type=int)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--pass", dest="passed", action="store_true")
    g.add_argument("--fail", dest="failed", action="store_true")
    p.add_argument("--remarks", help="复查意见（不通过时必填）")
    p.add_argument("--on", type=_date, help="复查日期（默认今天）")
    p.add_argument("--version", type=int)

    p = rs.add_parser("close", help="销号（重大事故隐患须已复查通过；挂牌督办的同时摘牌）")
    _db_args(p)
    p.add_argument("id", type=int)
    p.add_argument("--on", type=_date, help="销号日期（默认今天）")
    p.add_argument("--reason")
    p.add_argument("--version", type=int)

    p = rs.add_parser("supervise", help="挂牌督办重大事故隐患（督办负责人）")
    _db_args(p)
    p.add_argument("id", type=int)
    p.add_argument("--authority", required=True, help="督办单位")
    p.add_argument("--number", required=True, help="督办文号")
    p.add_argument("--listed-on", type=_date, help="挂牌日期（默认今天）")
    p.add_argument("--due-on", type=_date, help="要求完成整改日期")
    p.add_argument("--version", type=int)

    p = rs.add_parser("dual-report", help="登记双报告（向监管部门或职代会报告重大事故隐患）")
    _db_args(p)
    p.add_argument("id", type=int)
    p.add_argument("--to", required=True, type=_choice({"监管部门": "department", "职代会": "workers_congress",
                                                         "department": "department", "workers_congress": "workers_congress"}), help="监管部门 或 职代会")
    p.add_argument("--name", required=True, help="报告对象名称")
    p.add_argument("--on", type=_date, help="报告日期（默认今天）")

    p = rs.add_parser("suspend", help="登记责令停产停业整顿")
    _db_args(p)
    p.add_argument("id", type=int)
    p.add_argument("--on", type=_date, help="责令日期（默认今天）")
    p.add_argument("--number", help="文书编号")
    p.add_argument("--scope", help="停产停业范围")

    p = rs.add_parser("void", help="作废误录的隐患（或 --inspection 整次检查记录），须写明原因；记录不删除")
    _db_args(p)
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True)
    p.add_argument("--inspection", action="store_true", help="作废的是检查记录（连同由它登记的隐患）")
    p.add_argument("--version", type=int)

    p = rs.add_parser("spotcheck", help="抽查检查企业自查自改情况：登记（add）、列出（list）、作废（void）、抽查内容（items）")
    ss = p.add_subparsers(dest="spotcheck_command", required=True, parser_class=type(reg))
    q = ss.add_parser("add", help="登记一次抽查检查（检查人员、督办负责人）；未填的项登记为“未查明”",
                      description="每项填 是（存在该问题）、否（不存在）或 未查明，如 --item 1=是 --item 5=否；"
                                  "也可用 --answers 文件（YAML 或 JSON，如 {1: 是, 5: 否}）。编号见 register spotcheck items。")
    _db_args(q)
    q.add_argument("--unit", type=int, required=True, help="单位编号")
    q.add_argument("--on", type=_date, help="抽查日期（默认今天）")
    q.add_argument("--inspector", action="append", default=[], metavar="姓名:执法证号", required=True, help="检查人员（至少一人，可重复）")
    q.add_argument("--item", action="append", default=[], metavar="编号=是|否|未查明", help="一项抽查结果（可重复；编号 1–7 或代码）")
    q.add_argument("--answers", type=Path, help="抽查结果文件（YAML 或 JSON：编号或代码 → 是/否/未查明）")
    q.add_argument("--remarks", help="备注")
    q.add_argument("--inspection", type=int, help="同时进行的检查记录编号（可选）")
    q = ss.add_parser("list", help="列出抽查记录")
    _db_args(q)
    q.add_argument("--month", help="只列该月的（如 2026-11）")
    q.add_argument("--unit", type=int)
    q.add_argument("--voided", action="store_true", help="包括已作废的")
    q.add_argument("--format", choices=("text", "json"), default="text")
    q = ss.add_parser("void", help="作废误录的抽查记录，须写明原因；记录不删除")
    _db_args(q)
    q.add_argument("id", type=int)
    q.add_argument("--reason", required=True)
    q = ss.add_parser("items", help="列出抽查内容（编号、代码、调度表中的行）")
    q.add_argument("--format", choices=("text", "json"), default="text")

    p = rs.add_parser("report", help="报表：月度调度表（dispatch）、排查表（inspections）、台账导出（export）")
    _db_args(p)
    p.add_argument("--month", required=True, help="月份，如 2026-11（累计到该月月底）")
    p.add_argument("--kind", choices=("dispatch", "inspections", "export"), default="dispatch")
    p.add_argument("--format", choices=("xlsx", "html"), default="html")
    p.add_argument("-o", "--output", type=Path, help="输出文件（xlsx 必须指定）")


# --------------------------------------------------------------------------- running


def _password(prompt: str, env: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise _Usage(f"未提供密码：请设置环境变量 {env}，或在终端中运行以输入密码")
    return getpass.getpass(prompt)


class _Usage(Exception):
    pass


def _open(args: argparse.Namespace) -> "Register":
    from hazardjudge.register.store import Register

    return Register(args.db)


def _login(reg: "Register", args: argparse.Namespace) -> "Actor":
    name = args.user or os.environ.get(USER_ENV)
    if not name:
        raise _Usage(f"请用 --user 或环境变量 {USER_ENV} 指定操作账号")
    return reg.authenticate(name, _password(f"{name} 的密码：", PASSWORD_ENV))


def run(args: argparse.Namespace) -> int:
    """Run a ``register`` subcommand; errors are printed in Chinese and mapped to exit codes."""
    return _guarded(lambda: _COMMANDS[args.register_command](args))


def _guarded(fn) -> int:
    from pydantic import ValidationError

    from hazardjudge.errors import validation_message_zh
    from hazardjudge.register.errors import AuthenticationError, ConflictError, NotFound, PermissionDenied, RegisterError

    try:
        return fn()
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"])
            print(f"错误：{_FIELD_ZH.get(where, where)}：{validation_message_zh(err)}", file=sys.stderr)
        return EXIT_DATAERR
    except _Usage as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except RegisterError as exc:
        for p in exc.problems:
            print(f"错误：{p.message}" + (f"（{p.hint}）" if p.hint else ""), file=sys.stderr)
        if isinstance(exc, (PermissionDenied, AuthenticationError)):
            return EXIT_NOPERM
        if isinstance(exc, NotFound):
            return EXIT_NOINPUT
        if isinstance(exc, ConflictError):
            return EXIT_TEMPFAIL
        return EXIT_DATAERR


_FIELD_ZH = {
    "name": "名称", "description": "隐患描述", "filename": "文件名", "responsible": "责任", "measures": "措施", "funds": "资金",
    "time_limit": "时限", "plan": "预案", "deadline_days": "整改期限天数", "certificate": "执法证号", "credit_code": "统一社会信用代码",
    "remarks": "备注", "inspectors": "检查人员",
}


def _init(args: argparse.Namespace) -> int:
    from hazardjudge.register import db

    reg = _open(args)
    print(f"台账数据库：{db.resolve_url(args.db)}（结构版本 {db.current(reg.engine)}）")
    if not reg.has_users():
        name = args.user or os.environ.get(USER_ENV)
        if not name:
            raise _Usage(f"台账尚无账号：请用 --user 或 {USER_ENV} 指定第一个督办负责人的用户名")
        actor = reg.bootstrap(name, _password(f"为 {name} 设置密码：", PASSWORD_ENV), args.name)
        print(f"已创建督办负责人账号：{actor.username}")
    return EXIT_OK


def _user(args: argparse.Namespace) -> int:
    reg = _open(args)
    me = _login(reg, args)
    out = reg.add_user(me, args.username, _password(f"为 {args.username} 设置密码：", NEW_PASSWORD_ENV), args.role, args.name, args.unit)
    print(f"已添加账号 {out.username}（{out.role.value}）")
    return EXIT_OK


def _unit(args: argparse.Namespace) -> int:
    from hazardjudge.register.views import UnitIn

    reg = _open(args)
    me = _login(reg, args)
    unit = reg.add_unit(me, UnitIn(name=args.name, unit_type=args.type, address=args.address, town=args.town,
                                   village=args.village, sector=args.sector, credit_code=args.credit_code))
    print(f"已登记单位 {unit.id}：{unit.name}")
    return EXIT_OK


def _units(args: argparse.Namespace) -> int:
    reg = _open(args)
    units = reg.list_units(_login(reg, args))
    if args.format == "json":
        print(json.dumps([u.model_dump(mode="json") for u in units], ensure_ascii=False, indent=2))
    else:
        for u in units:
            print(f"{u.id}\t{u.name}\t{u.town or ''}{u.village or ''}\t{u.sector or ''}")
    return EXIT_OK


def _add(args: argparse.Namespace) -> int:
    from hazardjudge import clock
    from hazardjudge.register.views import HazardIn

    reg = _open(args)
    h = reg.add_hazard(_login(reg, args), HazardIn(
        unit_id=args.unit, grade=args.grade, found_on=args.found_on or clock.today(), description=args.description,
        location=args.location, citation=args.citation, origin=args.origin,
    ))
    print(f"已登记隐患 {h.id}（{h.grade_label}，{h.status_label}）")
    return EXIT_OK


def _line(h: Any) -> str:
    flags = "".join(f for f, on in (("【逾期】", h.overdue), ("【挂牌督办】", h.supervised), ("【已作废】", h.voided)) if on)
    return f"{h.id}\t{h.grade_label}\t{h.status_label}{flags}\t{h.citation or '—'}\t{h.unit_name}\t{h.description[:40]}"


def _list(args: argparse.Namespace) -> int:
    from hazardjudge.register.views import HazardFilter

    reg = _open(args)
    f = HazardFilter(status=args.status, grade=args.grade, unit_id=args.unit, town=args.town, village=args.village, sector=args.sector,
                     overdue=True if args.overdue else None, supervised=True if args.supervised else None, text=args.text,
                     include_voided=args.voided)
    page = reg.list_hazards(_login(reg, args), f, args.limit, args.offset)
    if args.format == "json":
        print(page.model_dump_json(indent=2))
        return EXIT_OK
    print("编号\t等级\t状态\t依据条款\t单位\t描述")
    for h in page.items:
        print(_line(h))
    print(f"共 {page.total} 项（显示第 {page.offset + 1}–{page.offset + len(page.items)} 项）" if page.items else f"共 {page.total} 项")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    reg = _open(args)
    d = reg.get_hazard(_login(reg, args), args.id)
    if args.format == "json":
        print(d.model_dump_json(indent=2))
        return EXIT_OK
    rows = [
        ("隐患编号", d.id), ("单位", d.unit_name), ("等级", d.grade_label), ("状态", d.status_label + ("（复查通过，待销号）" if d.review_passed and d.status.value == "pending_review" else "")),
        ("依据条款", d.citation or "—"), ("描述", d.description), ("部位", d.location or "—"), ("发现日期", d.found_on),
        ("整改建议", d.rectification or "—"), ("责任", d.responsible or "—"), ("措施", d.measures or "—"), ("资金", d.funds or "—"),
        ("时限", d.time_limit or "—"), ("预案", d.plan or "—"),
        ("整改期限", f"{d.deadline or '—'}{'【逾期】' if d.overdue else ''}{'（' + d.deadline_note + '）' if d.deadline_note else ''}"),
        ("销号日期", d.closed_on or "—"), ("版本", d.version),
    ]
    for k, v in rows:
        print(f"{k}：{v}")
    for x in d.supervisions:
        print(f"挂牌督办：{x.authority} {x.document_number}，{x.listed_on} 挂牌" + (f"，{x.delisted_on} 摘牌" if x.delisted_on else ""))
    for r in d.dual_reports:
        print(f"双报告：{r.reported_on} 报 {r.recipient_name}")
    for x in d.suspensions:
        print(f"停产停业整顿：{x.ordered_on} {x.document_number or ''}" + (f"，{x.lifted_on} 恢复" if x.lifted_on else ""))
    print("记录：")
    for a in d.history:
        print(f"  {a.at.astimezone(_CHINA):%Y-%m-%d %H:%M}  {a.actor}  {a.action_label}" + (f"：{a.reason}" if a.reason else ""))
    return EXIT_OK


def _update(args: argparse.Namespace) -> int:
    from hazardjudge.register.views import HazardUpdate

    reg = _open(args)
    changes = HazardUpdate(responsible=args.responsible, measures=args.measures, funds=args.funds, time_limit=args.time_limit,
                           plan=args.plan, description=args.description, location=args.location, deadline=args.deadline,
                           deadline_days=args.deadline_days)
    h = reg.update(_login(reg, args), args.id, changes, args.version, args.reason)
    print(f"隐患 {h.id}：{h.status_label}，整改期限 {h.deadline or '—'}（版本 {h.version}）")
    return EXIT_OK


def _evidence(args: argparse.Namespace) -> int:
    from hazardjudge.register.views import FileIn

    files = []
    for path in args.file:
        if not path.is_file():
            print(f"找不到文件：{path}", file=sys.stderr)
            return EXIT_NOINPUT
        files.append(FileIn(filename=path.name, data=path.read_bytes()))
    reg = _open(args)
    h = reg.submit_evidence(_login(reg, args), args.id, args.note, files, args.version)
    print(f"隐患 {h.id}：{h.status_label}")
    return EXIT_OK


def _review(args: argparse.Namespace) -> int:
    reg = _open(args)
    h = reg.review(_login(reg, args), args.id, args.passed, args.on, args.remarks, args.version)
    print(f"隐患 {h.id}：{'复查通过，可销号' if args.passed else '复查不通过，退回整改'}（{h.status_label}）")
    return EXIT_OK


def _close(args: argparse.Namespace) -> int:
    reg = _open(args)
    h = reg.close(_login(reg, args), args.id, args.on, args.reason, args.version)
    print(f"隐患 {h.id}：已销号（{h.closed_on}）")
    return EXIT_OK


def _supervise(args: argparse.Namespace) -> int:
    from hazardjudge import clock

    reg = _open(args)
    h = reg.supervise(_login(reg, args), args.id, args.authority, args.number, args.listed_on or clock.today(), args.due_on, args.version)
    print(f"隐患 {h.id}：已挂牌督办")
    return EXIT_OK


def _dual(args: argparse.Namespace) -> int:
    from hazardjudge import clock

    reg = _open(args)
    h = reg.dual_report(_login(reg, args), args.id, args.to, args.name, args.on or clock.today())
    print(f"隐患 {h.id}：已登记双报告")
    return EXIT_OK


def _suspend(args: argparse.Namespace) -> int:
    from hazardjudge import clock

    reg = _open(args)
    h = reg.order_suspension(_login(reg, args), args.id, args.on or clock.today(), args.number, args.scope)
    print(f"隐患 {h.id}：已登记停产停业整顿")
    return EXIT_OK


def _void(args: argparse.Namespace) -> int:
    reg = _open(args)
    me = _login(reg, args)
    if args.inspection:
        insp = reg.void_inspection(me, args.id, args.reason)
        print(f"检查记录 {insp.id} 已作废（连同隐患 {len(insp.hazard_ids)} 项）")
    else:
        h = reg.void(me, args.id, args.reason, args.version)
        print(f"隐患 {h.id} 已作废")
    return EXIT_OK


def _month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(x) for x in text.split("-"))
        dt.date(year, month, 1)
    except ValueError:
        raise _Usage(f"月份“{text}”无法识别，请写成 2026-11 的形式") from None
    return year, month


def _inspectors(given: list[str]) -> list[Any]:
    from hazardjudge.register.views import InspectorIn

    out = []
    for item in given:
        name, sep, cert = item.replace("：", ":").partition(":")
        if not sep or not name.strip() or not cert.strip():
            raise _Usage(f"检查人员“{item}”须写成 姓名:执法证号")
        out.append(InspectorIn(name=name, certificate=cert))
    return out


def _spotcheck(args: argparse.Namespace) -> int:
    return _SPOT_COMMANDS[args.spotcheck_command](args)


def _spot_answers(args: argparse.Namespace) -> dict[str, Any] | None:
    """``--answers FILE`` then ``--item`` pairs; an item given in both is refused. None: the file is missing."""
    import yaml

    from hazardjudge.register import spot_items
    from hazardjudge.register.errors import InvalidInput

    pairs: list[str] = []
    if args.answers is not None:
        if not args.answers.is_file():
            return None
        text = args.answers.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if args.answers.suffix.lower() == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise InvalidInput.one("register.spot_file", f"抽查结果文件 {args.answers} 无法读取：{exc}") from None
        pairs += spot_items.pairs_of_mapping(data)
    return spot_items.parse_pairs(pairs + list(args.item))


def _spot_add(args: argparse.Namespace) -> int:
    from hazardjudge import clock
    from hazardjudge.register.views import SpotCheckIn

    inspectors = _inspectors(args.inspector)
    answers = _spot_answers(args)
    if answers is None:
        print(f"找不到文件：{args.answers}", file=sys.stderr)
        return EXIT_NOINPUT
    reg = _open(args)
    out = reg.record_spot_check(_login(reg, args), SpotCheckIn(
        unit_id=args.unit, checked_on=args.on or clock.today(), inspectors=inspectors, answers=answers,
        remarks=args.remarks, inspection_id=args.inspection,
    ))
    print(f"已登记抽查记录 {out.id}：{out.unit_name}，{out.checked_on}，存在问题 {out.findings} 项，未查明 {out.unknown} 项")
    missing = [str(a.number) for a in out.answers if a.key not in answers]
    if missing:
        print(f"未填写的第 {'、'.join(missing)} 项已按“未查明”登记（不计为存在问题，也不计为不存在问题）", file=sys.stderr)
    return EXIT_OK


def _spot_list(args: argparse.Namespace) -> int:
    start = end = None
    if args.month:
        from hazardjudge.register.reports import month_end

        year, month = _month(args.month)
        start, end = dt.date(year, month, 1), month_end(year, month)
    reg = _open(args)
    rows = reg.list_spot_checks(_login(reg, args), start, end, args.unit, args.voided)
    if args.format == "json":
        print(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return EXIT_OK
    print("编号\t抽查日期\t单位\t存在问题的项\t未查明的项")
    for r in rows:
        yes = "、".join(str(a.number) for a in r.answers if a.answer.value == "yes") or "无"
        unknown = "、".join(str(a.number) for a in r.answers if a.answer.value == "unknown") or "无"
        print(f"{r.id}\t{r.checked_on}\t{r.unit_name}{'【已作废】' if r.voided else ''}\t{yes}\t{unknown}")
    print(f"共 {len(rows)} 次抽查")
    return EXIT_OK


def _spot_void(args: argparse.Namespace) -> int:
    reg = _open(args)
    out = reg.void_spot_check(_login(reg, args), args.id, args.reason)
    print(f"抽查记录 {out.id} 已作废")
    return EXIT_OK


def _spot_items(args: argparse.Namespace) -> int:
    from hazardjudge.register import spot_items

    items = spot_items.load()
    if args.format == "json":
        print(items.model_dump_json(indent=2))
        return EXIT_OK
    print(f"{items.section}（单位：{items.unit}）；调度表第 1 行为“{items.total}”")
    for i in items.items:
        print(f"{i.number}\t{i.key}\t（调度表第 {i.number + 1} 行）{i.label}")
        if i.note:
            print(f"\t说明：{i.note}")
    print("每项填 是（存在该问题）、否（不存在）或 未查明；不填即为未查明。")
    return EXIT_OK


_SPOT_COMMANDS = {"add": _spot_add, "list": _spot_list, "void": _spot_void, "items": _spot_items}


def _report(args: argparse.Namespace) -> int:
    from hazardjudge.register import reports

    year, month = _month(args.month)
    if args.format == "xlsx" and args.output is None:
        raise _Usage("xlsx 格式需要用 -o 指定输出文件")
    reg = _open(args)
    me = _login(reg, args)
    data = reports.render(reg, me, args.kind, year, month, args.format)
    if args.output:
        args.output.write_bytes(data)
        print(f"已写入 {args.output}")
    else:
        sys.stdout.write(data.decode("utf-8"))
    return EXIT_OK


_COMMANDS = {
    "init": _init, "user": _user, "unit": _unit, "units": _units, "add": _add, "list": _list, "show": _show,
    "update": _update, "evidence": _evidence, "review": _review, "close": _close, "supervise": _supervise,
    "dual-report": _dual, "suspend": _suspend, "void": _void, "report": _report, "spotcheck": _spotcheck,
}

_CHINA = dt.timezone(dt.timedelta(hours=8))


# --------------------------------------------------------------------------- judge --record


def record(args: argparse.Namespace, read: Any, verdict: Any) -> int:
    """File a judged inspection (``judge FILE --record``): the unit, the inspection, the verdict, a hazard per finding."""
    return _guarded(lambda: _record(args, read, verdict))


def _record(args: argparse.Namespace, read: Any, verdict: Any) -> int:
    from hazardjudge.register.views import InspectionIn, UnitIn

    inspectors = _inspectors(args.record_inspectors or [])
    reg = _open(args)
    me = _login(reg, args)
    if args.unit_id is not None:
        unit = reg.get_unit(me, args.unit_id)
    else:
        info = read.unit or {}
        name = str(info.get("name") or "").strip()
        if not name:
            raise _Usage("检查记录没有 unit.name：请用 --unit-id 指定台账中的单位")
        unit = reg.find_unit(me, name) or reg.add_unit(me, UnitIn(
            name=name, address=_text(info.get("address")), unit_type=_text(info.get("type") or info.get("unit_type")),
            town=args.town or _text(info.get("town")), village=args.village or _text(info.get("village")),
            sector=(read.sectors or [None])[0] if read.sectors and len(read.sectors) == 1 else None,
        ))
    source = "file" if args.file != "-" and (args.input_format in (None, "yaml", "json")) else "paste"
    facts = {fid: value for fid, value in read.answers.values.items()}
    filed = reg.record(me, InspectionIn(
        unit_id=unit.id, inspected_on=verdict.inspection_date, origin=args.origin, inspectors=inspectors, facts=facts,
        sectors=read.sectors, source=source, source_name=None if args.file == "-" else str(args.file),
    ), verdict)
    print(f"已登记到隐患台账：检查记录 {filed.inspection.id}，单位 {unit.id}（{unit.name}），隐患 {len(filed.hazards)} 项"
          + (f"（编号 {'、'.join(str(h.id) for h in filed.hazards)}）" if filed.hazards else ""), file=sys.stderr)
    return EXIT_OK


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None
