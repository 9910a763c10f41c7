// The inspectors' page. All text from the server or the user is set with
// textContent, never as HTML, so nothing typed into a form can run as markup.
"use strict";

const $ = (id) => document.getElementById(id);
let lastRequest = null;

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, body) {
  const response = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const data = isJson ? await response.json() : await response.text();
  if (!response.ok) {
    const details = (data.problems || []).map((p) => (p.line ? `第${p.line}行：` : "") + p.message + (p.hint ? `（${p.hint}）` : ""));
    throw new Error([data.error || "请求失败", ...details].join("\n"));
  }
  return data;
}

function showError(err) {
  $("error").hidden = !err;
  $("error").textContent = err ? String(err.message || err) : "";
}

function chosen(name) {
  return [...document.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
}

function baseRequest() {
  const req = { date: $("date").value || null };
  const sectors = chosen("sector");
  const kinds = chosen("kind");
  if (sectors.length) req.sectors = sectors;
  if (kinds.length) req.site_kinds = kinds;
  const hazards = generalHazards();
  if (hazards.length) req.general_hazards = hazards;
  return req;
}

// 一般隐患 typed on the page: each row is one entry; an empty description is no entry.
function addHazardRow() {
  const row = el("div", { class: "hazard" });
  row.append(
    el("input", { type: "text", name: "hazard-description", maxlength: "500", placeholder: "隐患描述（必填），如：厨房未与其他区域分隔" }),
    el("input", { type: "text", name: "hazard-location", maxlength: "200", placeholder: "位置，如：一层厨房" }),
    el("label", {}, "整改期限 "),
  );
  row.lastChild.append(el("input", { type: "date", name: "hazard-deadline" }));
  $("hazards").append(row);
}

function generalHazards() {
  const out = [];
  for (const row of document.querySelectorAll("#hazards .hazard")) {
    const value = (name) => row.querySelector(`[name=${name}]`).value.trim();
    if (!value("hazard-description")) continue;
    const entry = { description: value("hazard-description") };
    if (value("hazard-location")) entry.location = value("hazard-location");
    if (value("hazard-deadline")) entry.deadline = value("hazard-deadline");
    out.push(entry);
  }
  return out;
}

function chinaToday(now = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

async function init() {
  // The inspection date is China's calendar day: toISOString() gives UTC's, which before
  // 08:00 is yesterday and can select the previous edition of a standard.
  $("date").value = chinaToday();
  const info = await api("/api/sectors");
  for (const [value, label] of Object.entries(info.site_kinds)) {
    const l = el("label");
    l.append(el("input", { type: "checkbox", name: "kind", value }), document.createTextNode(label));
    $("kinds").append(l);
  }
  for (const s of info.sectors) {
    const l = el("label", { title: s.scope_note });
    l.append(el("input", { type: "checkbox", name: "sector", value: s.id }), document.createTextNode(s.title));
    $("sectors").append(l);
  }
}

function question(item) {
  const box = el("div", { class: "q" + (item.parent ? " follow" : ""), "data-fact": item.fact, "data-type": item.type });
  box.append(el("div", { class: "text" }, `${item.number}. ${item.question}`));
  const meta = item.applies_text ? `（${item.applies_text}时回答）` : "";
  if (meta || item.help) box.append(el("div", { class: "meta" }, [meta, item.help].filter(Boolean).join("；")));
  const choices = el("div", { class: "choices" });
  const radio = (value, label, checked) => {
    const l = el("label");
    const input = el("input", { type: "radio", name: item.fact, value });
    if (checked) input.checked = true;
    l.append(input, document.createTextNode(label));
    choices.append(l);
  };
  if (item.type === "boolean") {
    radio("是", "是"); radio("否", "否"); radio("", "未检查", true);
  } else if (item.type === "enum") {
    for (const [v, label] of Object.entries(item.values)) radio(v, label);
    radio("", "未检查", true);
  } else if (item.type === "set") {
    for (const [v, label] of Object.entries(item.values)) {
      const l = el("label");
      l.append(el("input", { type: "checkbox", name: item.fact, value: v }), document.createTextNode(label));
      choices.append(l);
    }
  } else if (item.type === "integer" || item.type === "number") {
    const input = el("input", { type: "number", name: item.fact, step: "any", inputmode: "decimal", placeholder: item.unit ? `单位：${item.unit}` : "" });
    choices.append(input);
  } else {
    choices.append(el("input", { type: item.type === "date" ? "date" : "text", name: item.fact }));
  }
  box.append(choices);
  return box;
}

// Skip logic: a follow-up carries the condition (the rules' own JSON form) under which it applies,
// read here with the same three-valued logic as the server: true shows it, false hides it, and
// null (a question that opens it is still unanswered) hides it for now.
function evaluate(cond, values) {
  if (cond === null || cond === undefined) return true;
  if (cond.all) {
    let result = true;
    for (const c of cond.all) {
      const r = evaluate(c, values);
      if (r === false) return false;
      if (r === null) result = null;
    }
    return result;
  }
  if (cond.any) {
    let result = false;
    for (const c of cond.any) {
      const r = evaluate(c, values);
      if (r === true) return true;
      if (r === null) result = null;
    }
    return result;
  }
  if ("not" in cond) {
    const r = evaluate(cond.not, values);
    return r === null ? null : !r;
  }
  const left = values[cond.fact];
  // Whether a question was answered is always known, unlike its answer.
  if (cond.op === "answered") return (left !== undefined && left !== null) === cond.value;
  let right = cond.value;
  if (right !== null && typeof right === "object" && !Array.isArray(right)) {
    const other = values[right.fact];
    if (other === undefined || other === null) return null;
    right = other * right.times + right.plus;
  }
  if (left === undefined || left === null) return null;
  switch (cond.op) {
    case "eq": return left === right;
    case "ne": return left !== right;
    case "lt": return left < right;
    case "lte": return left <= right;
    case "gt": return left > right;
    case "gte": return left >= right;
    case "in": return right.includes(left);
    case "not_in": return !right.includes(left);
    case "contains": return left.includes(right);
    default: return null;
  }
}

let current = null;

async function loadChecklist() {
  showError(null);
  const req = baseRequest();
  current = await api("/api/checklist", { date: req.date, sectors: req.sectors, site_kinds: req.site_kinds });
  const form = $("checklist");
  form.replaceChildren();
  // A standard that applies but is not encoded, or why questions come from a provisional
  // reference version: said, since no answer here changes it.
  for (const note of current.notes || []) {
    form.append(el("p", { class: "hint checklist-note" }, `注意：${note}`));
  }
  let section = null;
  for (const item of current.items) {
    if (item.section !== section) {
      section = item.section;
      form.append(el("h3", { class: "section-title" }, section));
    }
    form.append(question(item));
  }
  $("checklist-id").textContent = current.items.length ? `检查表编号：${current.identity}` : "";
  refresh();
  $("judge-form").hidden = current.items.length === 0;
}

// The answers as the rules compare them: 是/否 as true/false, numbers as numbers.
function typedAnswers(facts) {
  const values = Object.fromEntries((current ? current.site : []).map((s) => [s.fact, s.value]));
  for (const box of document.querySelectorAll("#checklist .q")) {
    const value = facts[box.dataset.fact];
    if (value === undefined) continue;
    values[box.dataset.fact] = box.dataset.type === "boolean" ? value === "是" : value;
  }
  return values;
}

function refresh() {
  if (!current) return;
  const values = typedAnswers(formFacts(false));
  const boxes = Object.fromEntries([...document.querySelectorAll("#checklist .q")].map((b) => [b.dataset.fact, b]));
  let open = 0;
  for (const item of current.items) {
    const shown = evaluate(item.applies_when, values) === true;
    boxes[item.fact].hidden = !shown;
    open += shown;
  }
  // A section title stays only while one of its questions is on screen.
  let title = null;
  for (const node of $("checklist").children) {
    if (node.tagName === "H3") {
      title = node;
      title.hidden = true;
    } else if (title && !node.hidden) {
      title.hidden = false;
    }
  }
  $("checklist-count").textContent = current.items.length ? `当前需回答 ${open} 题（共 ${current.items.length} 题，其余按前面的回答显示）` : "";
}

// Only the questions on screen count: an answer left in a follow-up its parent has since closed is dropped.
function formFacts(visibleOnly = true) {
  const facts = {};
  for (const box of document.querySelectorAll("#checklist .q")) {
    if (visibleOnly && box.hidden) continue;
    const fact = box.dataset.fact;
    const type = box.dataset.type;
    if (type === "set") {
      const values = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      if (values.length) facts[fact] = values;
    } else if (type === "boolean" || type === "enum") {
      const checked = box.querySelector("input:checked");
      if (checked && checked.value !== "") facts[fact] = checked.value;
    } else {
      const input = box.querySelector("input");
      if (input.value !== "") facts[fact] = type === "integer" || type === "number" ? Number(input.value) : input.value;
    }
  }
  return facts;
}

function renderVerdict(response) {
  const v = response.verdict;
  $("result").hidden = false;
  $("outcome").textContent = v.outcome_label;
  $("outcome").className = "outcome-" + v.outcome;
  const problems = $("input-problems");
  problems.replaceChildren();
  for (const p of response.input_problems || []) {
    problems.append(el("p", { class: "error" }, (p.line ? `第${p.line}行：` : "") + p.message));
  }
  const findings = $("findings");
  findings.replaceChildren();
  for (const d of v.documents) {
    const doc = d.document ? `《${d.document.title}》${d.document.number}` : d.sector_title;
    findings.append(el("h3", {}, `${doc}：${d.outcome_label}`));
    for (const r of d.results.filter((r) => r.outcome === "triggered" && r.kind !== "exclusion")) {
      const box = el("div", { class: "finding" + (r.major ? "" : " minor") });
      box.append(el("div", { class: "cite" }, r.citations.map((c) => c.clause).join("、") + (r.major ? "（重大）" : "（一般）")));
      box.append(el("div", {}, r.finding));
      const facts = el("ul", { class: "facts" });
      for (const f of r.facts) facts.append(el("li", {}, `${f.question} ${f.display}`));
      box.append(facts);
      findings.append(box);
    }
    for (const g of d.gaps) findings.append(el("p", { class: "hint" }, `未编码或未核验：${g.clause} ${g.summary}`));
    // Judged against a provisional reference version: labelled, never shown as a confirmed finding.
    if (d.reference) findings.append(el("p", { class: "hint" }, `参照判定（${d.reference.number}）：${d.reference_note || ""}`));
    for (const r of (d.provisional || []).filter((r) => r.outcome === "triggered" && r.kind !== "exclusion")) {
      const box = el("div", { class: "finding pending" });
      box.append(el("div", { class: "cite" }, r.citations.map((c) => c.clause).join("、") + "（参照判定，待核对）"));
      box.append(el("div", {}, r.finding || ""));
      box.append(el("div", { class: "hint" }, r.status_note || ""));
      findings.append(box);
    }
  }
  // Met clauses whose exclusion is still to be established: shown apart, never as findings.
  const pending = $("pending");
  pending.replaceChildren();
  const open = v.documents.flatMap((d) => d.results.filter((r) => r.pending_exclusions && r.pending_exclusions.length));
  if (open.length) {
    pending.append(el("h3", {}, `待集体讨论、专家论证等确认的事项（${open.length}），尚未认定为重大隐患`));
    for (const r of open) {
      const box = el("div", { class: "finding pending" });
      box.append(el("div", { class: "cite" }, r.citations.map((c) => c.clause).join("、")));
      box.append(el("div", {}, r.finding || ""));
      if (r.pending_note) box.append(el("div", { class: "hint" }, r.pending_note));
      pending.append(box);
    }
  }
  const general = $("general");
  general.replaceChildren();
  if (v.general_hazards.length) {
    general.append(el("h3", {}, `记录的一般隐患（${v.general_hazards.length}），不属于重大隐患`));
    const list = el("ol");
    for (const h of v.general_hazards) {
      list.append(el("li", {}, h.description + (h.location ? `（${h.location}）` : "") + (h.deadline ? `，整改期限 ${h.deadline}` : "")));
    }
    general.append(list);
    for (const hint of v.general_hazard_hints) general.append(el("p", { class: "hint" }, hint.message));
  }
  const questions = $("questions");
  questions.replaceChildren();
  const asked = (title, list) => {
    if (!list.length) return;
    questions.append(el("h3", {}, `${title}（${list.length}）`));
    const ol = el("ol");
    for (const q of list) {
      const li = el("li", {}, `${q.question}（${q.id}）`);
      if (q.reason) li.append(el("div", { class: "hint" }, `为何要问：${q.reason}`));
      ol.append(li);
    }
    questions.append(ol);
  };
  asked("还需回答的问题，最能决定结论的在前", v.questions);
  asked("结论已确定；下列问题可能发现更多重大隐患", v.further_questions || []);
  $("result").scrollIntoView();
}

async function judge(req) {
  showError(null);
  lastRequest = req;
  renderVerdict(await api("/api/judge", req));
}

// Notice settings: kept in this browser (localStorage) so an office types them once.
const SETTINGS_KEY = "hazardjudge.notice-settings";
const SETTINGS_FIELDS = ["s-unit-name", "s-unit-address", "s-unit-legal", "s-unit-responsible", "s-unit-phone", "s-authority",
  "s-number-pattern", "s-sequence", "s-number", "s-issue-date", "s-major-days", "s-general-days", "s-contact"];

function addInspectorRow(name = "", certificate = "") {
  const row = el("div", { class: "inspector-row" });
  const a = el("input", { type: "text", name: "inspector-name", maxlength: "100", placeholder: "姓名" });
  const b = el("input", { type: "text", name: "inspector-certificate", maxlength: "50", placeholder: "执法证号" });
  a.value = name;
  b.value = certificate;
  row.append(a, b);
  $("s-inspectors").append(row);
}

function inspectors() {
  return [...document.querySelectorAll(".inspector-row")]
    .map((row) => ({ name: row.children[0].value.trim(), certificate: row.children[1].value.trim() }))
    .filter((i) => i.name);
}

function saveSettings() {
  const stored = { working: $("s-working-days").checked, inspectors: inspectors() };
  for (const id of SETTINGS_FIELDS) stored[id] = $(id).value;
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(stored));
  } catch (err) {
    // Private browsing or a full store: the form still works, it is only not remembered.
  }
}

function restoreSettings() {
  let stored = {};
  try {
    stored = JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}") || {};
  } catch (err) {
    stored = {};
  }
  for (const id of SETTINGS_FIELDS) if (typeof stored[id] === "string") $(id).value = stored[id];
  $("s-working-days").checked = stored.working === true;
  const people = Array.isArray(stored.inspectors) && stored.inspectors.length ? stored.inspectors : [{}, {}];
  for (const p of people) addInspectorRow(String(p.name || ""), String(p.certificate || ""));
}

// Only what was filled in is sent: the server's defaults (and placeholders) stand for the rest.
function noticeSettings() {
  const v = (id) => $(id).value.trim();
  const unit = {};
  for (const [key, id] of [["name", "s-unit-name"], ["address", "s-unit-address"], ["legal_representative", "s-unit-legal"],
    ["responsible_person", "s-unit-responsible"], ["phone", "s-unit-phone"]]) if (v(id)) unit[key] = v(id);
  const s = {};
  if (Object.keys(unit).length) s.unit = unit;
  if (v("s-authority")) s.authority = v("s-authority");
  if (v("s-number")) s.document_number = v("s-number");
  if (v("s-number-pattern")) s.document_number_pattern = v("s-number-pattern");
  if (v("s-sequence")) s.sequence = Number(v("s-sequence"));
  if (v("s-issue-date")) s.issue_date = v("s-issue-date");
  if (v("s-major-days")) s.major_deadline_days = Number(v("s-major-days"));
  if (v("s-general-days")) s.general_deadline_days = Number(v("s-general-days"));
  if ($("s-working-days").checked) s.deadline_in_working_days = true;
  if (v("s-contact")) s.contact = v("s-contact");
  const people = inspectors();
  if (people.length) s.inspectors = people;
  return s;
}

function noticeRequest(format) {
  return { inspection: lastRequest, settings: noticeSettings(), format };
}

async function openNotice() {
  const html = await api("/api/notice", noticeRequest("html"));
  const url = URL.createObjectURL(new Blob([html], { type: "text/html;charset=utf-8" }));
  window.open(url, "_blank");
}

async function downloadNotice(format) {
  const response = await fetch("/api/notice", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(noticeRequest(format)),
  });
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    const details = (data.problems || []).map((p) => p.message + (p.hint ? `（${p.hint}）` : ""));
    throw new Error([data.error || "生成失败", ...details].join("\n"));
  }
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: `整改通知书.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function tab(which) {
  $("tab-form").classList.toggle("active", which === "form");
  $("tab-paste").classList.toggle("active", which === "paste");
  $("form-pane").hidden = which !== "form";
  $("paste-pane").hidden = which !== "paste";
}

if (typeof document !== "undefined") {
  const guard = (fn) => () => fn().catch(showError);
  $("load").addEventListener("click", guard(loadChecklist));
  $("checklist").addEventListener("change", refresh);
  $("checklist").addEventListener("input", refresh);
  $("judge-form").addEventListener("click", guard(() => judge({ ...baseRequest(), facts: formFacts() })));
  $("judge-paste").addEventListener("click", guard(() => judge({ ...baseRequest(), text: $("paste").value })));
  $("notice").addEventListener("click", guard(openNotice));
  $("notice-pdf").addEventListener("click", guard(() => downloadNotice("pdf")));
  $("notice-docx").addEventListener("click", guard(() => downloadNotice("docx")));
  $("s-add-inspector").addEventListener("click", () => addInspectorRow());
  $("settings").addEventListener("input", saveSettings);
  $("settings").addEventListener("change", saveSettings);
  restoreSettings();
  $("add-hazard").addEventListener("click", addHazardRow);
  $("tab-form").addEventListener("click", () => tab("form"));
  $("tab-paste").addEventListener("click", () => tab("paste"));
  init().catch(showError);
} else {
  module.exports = { evaluate }; // the skip logic, tested under node (tests/test_checklist_roundtrip.py)
}
