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
  return req;
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

function question(item, numbers) {
  const box = el("div", { class: "q" + (item.follow_up_of.length ? " follow" : ""), "data-fact": item.fact, "data-type": item.type });
  box.append(el("div", { class: "text" }, `${item.number}. ${item.question}`));
  const meta = item.follow_up_of.length ? `追问：视第 ${item.follow_up_of.map((f) => numbers[f] || f).join("、")} 题` : "";
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

async function loadChecklist() {
  showError(null);
  const req = baseRequest();
  const checklist = await api("/api/checklist", { date: req.date, sectors: req.sectors, site_kinds: req.site_kinds });
  const form = $("checklist");
  form.replaceChildren();
  const numbers = Object.fromEntries(checklist.items.map((i) => [i.fact, i.number]));
  let section = null;
  for (const item of checklist.items) {
    if (item.section !== section) {
      section = item.section;
      form.append(el("h3", { class: "section-title" }, section));
    }
    form.append(question(item, numbers));
  }
  $("judge-form").hidden = checklist.items.length === 0;
}

function formFacts() {
  const facts = {};
  for (const box of document.querySelectorAll("#checklist .q")) {
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
  }
  const questions = $("questions");
  questions.replaceChildren();
  if (v.questions.length) {
    questions.append(el("h3", {}, `还需回答的问题（${v.questions.length}）`));
    const list = el("ol");
    for (const q of v.questions) list.append(el("li", {}, `${q.question}（${q.id}）`));
    questions.append(list);
  }
  $("result").scrollIntoView();
}

async function judge(req) {
  showError(null);
  lastRequest = req;
  renderVerdict(await api("/api/judge", req));
}

async function openNotice() {
  const html = await api("/api/notice", { inspection: lastRequest, format: "html" });
  const url = URL.createObjectURL(new Blob([html], { type: "text/html;charset=utf-8" }));
  window.open(url, "_blank");
}

function tab(which) {
  $("tab-form").classList.toggle("active", which === "form");
  $("tab-paste").classList.toggle("active", which === "paste");
  $("form-pane").hidden = which !== "form";
  $("paste-pane").hidden = which !== "paste";
}

const guard = (fn) => () => fn().catch(showError);
$("load").addEventListener("click", guard(loadChecklist));
$("judge-form").addEventListener("click", guard(() => judge({ ...baseRequest(), facts: formFacts() })));
$("judge-paste").addEventListener("click", guard(() => judge({ ...baseRequest(), text: $("paste").value })));
$("notice").addEventListener("click", guard(openNotice));
$("tab-form").addEventListener("click", () => tab("form"));
$("tab-paste").addEventListener("click", () => tab("paste"));
init().catch(showError);
