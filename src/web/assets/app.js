// mailtrace's page: criteria → /api/search (+ /api/stats) → table; a row → /api/trace/{id}.
//
// Everything shown that comes from a log is attacker-controlled (a Subject, an address, a
// reply): the DOM is built with createElement + textContent only, never innerHTML.
// The page's state lives in the URL (the API's own parameters, plus trace, page, per_page, sort
// and range=any for "any time"), so a search or an open message can be bookmarked and shared. URLs are relative, so the
// page also works behind a proxy that serves it under a sub-path (https://host/mailtrace/).
"use strict";

const STATUSES = ["delivered", "spam", "deferred", "bounced", "expired", "rejected", "quarantined",
  "discarded", "expanded", "in-progress"];
// the API's parameters the form holds (status and subject are handled apart)
const TEXT_PARAMS = ["from", "to", "message_id", "queue_id", "direction", "client_ip", "host", "folder",
  "auth_fail"];
// the address inputs: a comma list, which a URL may also give repeated (`to=a&to=b`: "a, b")
const LIST_PARAMS = ["from", "to"];
// the yes/no criteria the form holds as check boxes
const FLAG_PARAMS = ["spam", "virus", "end_to_end"];
const PRESETS = ["24h", "48h", "7d", "10d"];
const PAGE_SIZES = ["25", "50", "100", "200"];
const TOKEN_KEY = "mailtrace-token";
// the window a page opened without one searches (as Exchange's Message Trace)
const DEFAULT_RANGE = "48h";
// saved searches: [{name, query}] in this browser's localStorage
const SAVED_KEY = "mailtrace-saved-searches";
// the row keys the table and the recipient list know; any other key is shown as it is
const ROW_KEYS = new Set(["time", "last_time", "host", "mta", "queue_id", "queue_ids", "message_id",
  "from", "header_from", "to", "orig_to", "status", "dsn", "relay", "response", "subject",
  "client_ip", "client_name", "helo", "sasl_user", "direction", "size", "attempts", "trace_id",
  "spam_verdict", "spam_score", "virus", "spf", "dkim", "dmarc", "folder", "policy_actions", "hops"]);
const TRACE_KEYS = new Set(["trace_id", "host", "mta", "queue_ids", "message_id", "from",
  "header_from", "subject", "client", "size", "first_time", "last_time", "recipients",
  "direction", "links", "filter", "actions", "timeline", "content_id", "spam_verdict", "spam_score",
  "virus", "spf", "dkim", "dmarc", "policy_actions"]);
const COLUMNS = [
  ["time", "Time"], ["from", "Sender"], ["to", "Recipient"], ["status", "Status"],
  ["subject", "Subject"], ["queue_id", "Queue ID"], ["direction", "Direction"],
  ["response", "Detail"],
];
// end-to-end rows (one per message across servers) add the servers their paths crossed
const PATH_COLUMN = ["hops", "Path"];

function columns() {
  if (!rows.some((r) => (r.hops || []).length > 1)) return COLUMNS;
  const c = COLUMNS.slice();
  c.splice(c.length - 1, 0, PATH_COLUMN);
  return c;
}

const LINK_WORDS = {
  "reinjected": "re-injected by the content filter as",
  "forwarded": "forwarded (alias or .forward) as",
  "notification": "a notice to the sender (bounce, delay, success) was queued as",
  "notification-of": "this is a notice about",
};

const $ = (id) => document.getElementById(id);

// el("td", {class: "x"}, "text", child…): strings become text nodes, never markup
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// ---- state --------------------------------------------------------------------------------

let rows = [];          // the current search's rows
let total = 0;
let truncated = false;
let sortKey = "time";
let sortDir = "desc";
let page = 1;
let perPage = 50;
let lastSearch = null;  // the API query of the rows shown

function browserZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; }
}

function zone() {
  return $("timezone").value || "UTC";
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone(), year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(d);
    const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  } catch (e) {
    return iso;
  }
}

function fmtDuration(seconds) {
  if (!isFinite(seconds)) return "";
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? "-" : "+";
  if (s < 60) return `${sign}${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${sign}${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${sign}${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

function statusBadge(status) {
  const known = STATUSES.includes(status) ? status : "unknown";
  return el("span", { class: `status status-${known}`, title: status }, status);
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

// ---- the URL ↔ the form -------------------------------------------------------------------

function formToParams() {
  const f = $("search-form");
  const p = new URLSearchParams();
  for (const name of TEXT_PARAMS) {
    const v = f.elements[name].value.trim();
    if (v) p.set(name, v);
  }
  for (const s of splitSubject(f.elements.subject.value)) p.append("subject", s);
  const ticked = STATUSES.filter((s) => f.querySelector(`input[name=status][value="${s}"]`).checked);
  if (ticked.length) p.set("status", ticked.join(","));
  const range = f.elements.range.value;
  if (PRESETS.includes(range)) p.set("last", range);
  if (range === "") p.set("range", "any");
  if (range === "custom") {
    if (f.elements.since.value) p.set("since", f.elements.since.value);
    if (f.elements.until.value) p.set("until", f.elements.until.value);
  }
  for (const name of FLAG_PARAMS) if (f.elements[name].checked) p.set(name, "1");
  if (f.elements.historical.checked) p.set("historical", "1");
  p.set("timezone", zone());
  if (f.elements.limit.value !== "1000") p.set("limit", f.elements.limit.value);
  return p;
}

// `invoice "order 12"` → ["invoice", "order 12"]: quotes keep a phrase together
function splitSubject(text) {
  const out = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const v = (m[1] !== undefined ? m[1] : m[2]).trim();
    if (v) out.push(v);
  }
  return out;
}

function paramsToForm(p) {
  const f = $("search-form");
  for (const name of TEXT_PARAMS) {
    f.elements[name].value = LIST_PARAMS.includes(name) ? p.getAll(name).join(", ") : p.get(name) || "";
  }
  f.elements.subject.value = p.getAll("subject").map((s) => (/\s/.test(s) ? `"${s}"` : s)).join(" ");
  const ticked = p.getAll("status").join(",").split(",").map((s) => s.trim().toLowerCase());
  for (const box of f.querySelectorAll("input[name=status]")) box.checked = ticked.includes(box.value);
  const last = p.get("last");
  if (last && PRESETS.includes(last)) f.elements.range.value = last;
  else if (p.get("since") || p.get("until") || last) f.elements.range.value = "custom";
  else f.elements.range.value = "";
  f.elements.since.value = (p.get("since") || "").replace(" ", "T").slice(0, 19);
  f.elements.until.value = (p.get("until") || "").replace(" ", "T").slice(0, 19);
  $("custom-range").hidden = f.elements.range.value !== "custom";
  const yes = (name) => ["1", "true", "yes", "on"].includes((p.get(name) || "").toLowerCase());
  for (const name of FLAG_PARAMS) f.elements[name].checked = yes(name);
  f.elements.historical.checked = yes("historical");
  const tz = p.get("timezone");
  if (tz) {
    if (![...$("timezone").options].some((o) => o.value === tz)) $("timezone").append(el("option", { value: tz }, tz));
    $("timezone").value = tz;
  }
  const limit = p.get("limit") || "1000";
  if (![...f.elements.limit.options].some((o) => o.value === limit)) {
    f.elements.limit.append(el("option", { value: limit }, `${limit} rows`));
  }
  f.elements.limit.value = limit;
}

// the API's query from the page's URL (without the page-only keys)
function apiParams(p) {
  const q = new URLSearchParams(p);
  for (const k of ["trace", "page", "sort", "per_page", "range"]) q.delete(k);
  return q;
}

function pageUrl(p) {
  const s = p.toString();
  return s ? `${location.pathname}?${s}` : location.pathname;
}

// ---- talking to the API -------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// the body of an API answer as text (errors are JSON: {"error": …})
async function apiText(path, accept) {
  const headers = { Accept: accept || "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const res = await fetch(path, { headers });
  if (res.status === 401) {
    showTokenPanel();
    throw new ApiError(401, "This server needs its token (see above).");
  }
  const text = await res.text();
  if (!res.ok) {
    let body = null;
    try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
    throw new ApiError(res.status, (body && body.error) || `${res.status} ${res.statusText}`);
  }
  return text;
}

async function api(path) {
  const text = await apiText(path);
  try { return JSON.parse(text); } catch (e) { return null; }
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function showTokenPanel() {
  $("token-panel").hidden = false;
  $("token-input").focus();
}

// ---- results ------------------------------------------------------------------------------

async function runSearch(p) {
  const q = apiParams(p);
  const key = q.toString();
  $("search-button").disabled = true;
  $("csv-link").href = `api/search.csv?${key}`;
  $("report-link").href = `api/report?${key}`;
  try {
    if (key !== lastSearch) {
      $("row-count").textContent = "Searching…";
      const [found, stats] = await Promise.all([
        api(`api/search?${key}`),
        // the summary counts the rows shown: the same limit
        api(`api/stats?${statsQuery(q)}`).catch(() => null),
      ]);
      rows = found.rows;
      total = found.total;
      truncated = found.truncated;
      lastSearch = key;
      $("empty").textContent = found.hint ? `No messages matched. ${found.hint}` : "No messages matched.";
      renderSummary(stats);
      renderStoreInfo(stats && stats.store);
    }
    showError("");
    renderRows();
  } catch (e) {
    lastSearch = null;
    rows = [];
    total = 0;
    truncated = false;
    renderRows();
    $("row-count").textContent = "";
    $("summary").hidden = true;
    showError(e.message);
  } finally {
    $("search-button").disabled = false;
  }
}

function statsQuery(q) {
  const s = new URLSearchParams(q);
  s.set("limit", q.get("limit") || "1000");
  return s.toString();
}

function renderStoreInfo(store) {
  const info = $("store-info");
  if (!store) return;
  let text = `Store ${store.path}`;
  if (store.hot_first) text += ` · hot ${store.hot_first} … ${store.hot_last}`;
  else text += " · hot tier empty";
  if (store.archive_days) text += ` · ${store.archive_days} archived days`;
  info.textContent = text;
}

function sortedRows() {
  const dir = sortDir === "asc" ? 1 : -1;
  const val = (r) => {
    const v = r[sortKey];
    return v === null || v === undefined ? "" : String(v).toLowerCase();
  };
  return rows
    .map((r, i) => [r, i])
    .sort((a, b) => {
      const x = val(a[0]);
      const y = val(b[0]);
      if (x < y) return -dir;
      if (x > y) return dir;
      return a[1] - b[1];
    })
    .map((x) => x[0]);
}

function renderRows() {
  const head = $("results-head");
  clear(head);
  const cols = columns();
  for (const [key, title] of cols) {
    const active = key === sortKey;
    const arrow = active ? (sortDir === "asc" ? " ▲" : " ▼") : "";
    head.append(el("th", { class: `col-${key.replace("_", "-")}`, "aria-sort": active ? (sortDir === "asc" ? "ascending" : "descending") : "none" },
      el("button", {
        type: "button", class: "sort", "data-key": key,
        onclick: () => {
          if (sortKey === key) sortDir = sortDir === "asc" ? "desc" : "asc";
          else { sortKey = key; sortDir = key === "time" ? "desc" : "asc"; }
          page = 1;
          updateUrl(true);
          renderRows();
        },
      }, title + (key === "time" ? ` (${zone()})` : "") + arrow)));
  }
  const body = $("results-body");
  clear(body);
  const all = sortedRows();
  const pages = Math.max(1, Math.ceil(all.length / perPage));
  if (page > pages) page = pages;
  const shown = all.slice((page - 1) * perPage, page * perPage);
  const p = new URLSearchParams(location.search);
  for (const r of shown) {
    const link = new URLSearchParams(p);
    link.set("trace", r.trace_id);
    const open = (ev) => {
      if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      ev.preventDefault();
      openTrace(r.trace_id, true);
    };
    // a click anywhere on the row opens it (the time is also a link, to open in a new tab)
    const rowClick = (ev) => {
      if (ev.target.closest("a") || String(window.getSelection() || "") !== "") return;
      openTrace(r.trace_id, true);
    };
    // one line a row: each cell is cut with an ellipsis, its whole text in its title
    const from = r.from === "" ? "<>" : (r.from || "");
    const orig = r.orig_to ? ` (was ${r.orig_to})` : "";
    const path = (r.hops || []).map((h) => h.split(":")[0]).join(" → ");
    const detail = [r.dsn, r.response].filter(Boolean).join(" ");
    body.append(el("tr", { class: "row", "data-trace": r.trace_id, onclick: rowClick },
      el("td", { class: "time" }, el("a", { href: pageUrl(link), onclick: open }, fmtTime(r.time))),
      el("td", { class: "addr", title: from || null }, from),
      el("td", { class: "addr", title: (r.to || "") + orig || null }, r.to || "", orig ? el("span", { class: "orig" }, orig) : null),
      el("td", { class: "status-cell", title: r.status }, statusBadge(r.status)),
      subjectCell(r.subject || "", "subject"),
      el("td", { class: "mono", title: r.queue_id || "NOQUEUE" }, r.queue_id || "NOQUEUE"),
      el("td", { title: r.direction || null }, r.direction || ""),
      cols === COLUMNS ? null : el("td", { class: "path-cell", title: path || null }, path),
      el("td", { class: "response", title: detail || null }, detail),
    ));
  }
  $("results-table").hidden = rows.length === 0;
  $("empty").hidden = rows.length !== 0 || lastSearch === null;
  const count = rows.length === 1 ? "1 row" : `${rows.length} rows`;
  $("row-count").textContent = truncated
    ? `${count} shown of ${total} matching (raise "At most" or narrow the criteria)`
    : count;
  renderPager(pages);
}

function renderPager(pages) {
  const pager = $("pager");
  clear(pager);
  if (pages <= 1) return;
  const go = (n) => () => { page = n; updateUrl(true); renderRows(); };
  pager.append(
    el("button", { type: "button", class: "secondary", disabled: page <= 1, onclick: go(page - 1) }, "‹ Previous"),
    el("span", { class: "page-no" }, ` page ${page} of ${pages} `),
    el("button", { type: "button", class: "secondary", disabled: page >= pages, onclick: go(page + 1) }, "Next ›"),
  );
}

function renderSummary(stats) {
  const box = $("summary");
  if (!stats || !stats.counted) { box.hidden = true; return; }
  box.hidden = false;
  const counts = $("status-counts");
  clear(counts);
  for (const s of stats.statuses) {
    counts.append(el("span", { class: "count" }, statusBadge(s.status), ` ${s.count}`));
  }
  if (stats.truncated) counts.append(el("span", { class: "hint" }, ` (newest ${stats.counted} of ${stats.total})`));
  const plot = $("plot");
  clear(plot);
  const buckets = stats.buckets || [];
  if (buckets.length === 0) return;
  const W = 600, H = 90, pad = 16;
  const max = Math.max(1, ...buckets.map((b) => b.counts.reduce((a, c) => a + c.count, 0)));
  const bw = (W - 2) / buckets.length;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H + pad}`, class: "chart", role: "img" });
  chart.append(svg("title", {}, `rows per ${fmtBucket(stats.bucket_seconds)}, by status`));
  buckets.forEach((b, i) => {
    let y = H;
    for (const c of b.counts) {
      const h = (c.count / max) * (H - 4);
      y -= h;
      const rect = svg("rect", {
        x: (1 + i * bw).toFixed(1), y: y.toFixed(1), width: Math.max(1, bw - 1).toFixed(1),
        height: h.toFixed(1), class: `bar status-${STATUSES.includes(c.status) ? c.status : "unknown"}`,
      });
      rect.append(svg("title", {}, `${fmtTime(b.start)}: ${c.count} ${c.status}`));
      chart.append(rect);
    }
  });
  chart.append(svg("line", { x1: 0, y1: H + 0.5, x2: W, y2: H + 0.5, class: "axis" }));
  chart.append(svg("text", { x: 1, y: H + pad - 3, class: "axis-label" }, fmtTime(buckets[0].start)));
  chart.append(svg("text", { x: W - 1, y: H + pad - 3, class: "axis-label end" },
    `${fmtTime(buckets[buckets.length - 1].start)} · per ${fmtBucket(stats.bucket_seconds)}`));
  plot.append(chart);
}

function fmtBucket(s) {
  if (s % 86400 === 0) return s === 86400 ? "day" : `${s / 86400} days`;
  if (s % 3600 === 0) return s === 3600 ? "hour" : `${s / 3600} hours`;
  return `${s / 60} min`;
}

// ---- one message --------------------------------------------------------------------------

async function openTrace(id, push) {
  const p = new URLSearchParams(location.search);
  p.set("trace", id);
  if (push) history.pushState(null, "", pageUrl(p));
  $("results").hidden = true;
  $("detail").hidden = false;
  const back = new URLSearchParams(p);
  back.delete("trace");
  $("back-link").href = pageUrl(back);
  const body = $("detail-body");
  clear(body);
  body.append(el("p", { class: "hint" }, "Loading…"));
  if (!$("store-info").textContent) {
    // opened straight from a link: say what the store holds all the same
    api("api/stats?limit=1").then((s) => renderStoreInfo(s.store)).catch(() => {});
  }
  setExport(null);
  try {
    const path = `api/trace/${encodeURIComponent(id)}`;
    // the JSON as the API sent it (`show --format json`) and the text of `show`, for export
    const [json, text] = await Promise.all([
      apiText(path),
      apiText(`${path}?format=text`, "text/plain").catch(() => null),
    ]);
    const traces = JSON.parse(json);
    showError("");
    clear(body);
    for (const p of renderPaths(traces)) body.append(p);
    for (const t of traces) body.append(renderTrace(t));
    // the files are named after the (first) message's queue id, else the id asked
    const first = traces[0] && traces[0].trace;
    setExport({ name: (first && first.queue_ids && first.queue_ids[0]) || id, json, text });
    window.scrollTo(0, 0);
  } catch (e) {
    clear(body);
    showError(e.message);
  }
}

// ---- copy and download one message ---------------------------------------------------------

let exported = null;  // {name, json, text} of the message shown
let exportUrls = [];

function setExport(what) {
  for (const u of exportUrls) URL.revokeObjectURL(u);
  exportUrls = [];
  exported = what;
  $("export").hidden = !what;
  $("export-status").textContent = "";
  if (!what) return;
  const base = `mailtrace-${what.name.replace(/[^A-Za-z0-9._@-]+/g, "_")}`;
  const link = (a, body, type, ext) => {
    a.hidden = body === null;
    if (body === null) return;
    const url = URL.createObjectURL(new Blob([body], { type }));
    exportUrls.push(url);
    a.href = url;
    a.download = `${base}.${ext}`;
  };
  link($("download-json"), what.json, "application/json", "json");
  link($("download-text"), what.text, "text/plain;charset=utf-8", "txt");
  $("copy-text").hidden = what.text === null;
}

async function copy(kind) {
  if (!exported) return;
  const text = kind === "json" ? exported.json : exported.text;
  const said = kind === "json" ? "JSON" : "text";
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    // no Clipboard API (a plain-http page not on loopback): the old way
    const area = el("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) { $("export-status").textContent = `Could not copy the ${said}: use the download`; return; }
  }
  $("export-status").textContent = `Copied the ${said}`;
}

function kv(table, name, ...value) {
  if (value.length === 0 || value.every((v) => v === null || v === undefined || v === "")) return;
  table.append(el("tr", {}, el("th", {}, name), el("td", {}, ...value)));
}

function traceLink(queueId) {
  const p = new URLSearchParams(location.search);
  p.set("trace", queueId);
  return el("a", {
    href: pageUrl(p), class: "mono",
    onclick: (ev) => {
      if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      ev.preventDefault();
      openTrace(queueId, true);
    },
  }, queueId);
}

// The delivery paths across servers, when the message crossed several whose logs are held:
// per path, a line per hop (host, queue id, in → out, where it came from) and each recipient's
// status, folder and next hop. Built from the rows' path keys; the hops link to their
// messages. Legs joined by a hop are one path (two unrelated paths can share a Message-ID).
function renderPaths(items) {
  const hops = items.filter((it) => (it.rows || []).some((r) => r.prev_hop || r.next_hop));
  const name = (it) => `${it.trace.host}:${(it.trace.queue_ids && it.trace.queue_ids[0]) || it.trace.trace_id}`;
  const group = hops.map((_, i) => i);
  const find = (i) => (group[i] === i ? i : (group[i] = find(group[i])));
  hops.forEach((it, i) => {
    for (const r of it.rows) {
      for (const h of [r.prev_hop, r.next_hop]) {
        const j = hops.findIndex((o) => name(o) === h);
        if (h && j >= 0) group[find(i)] = find(j);
      }
    }
  });
  const paths = new Map();
  hops.forEach((it, i) => {
    const g = find(i);
    if (!paths.has(g)) paths.set(g, []);
    paths.get(g).push(it);
  });
  return [...paths.values()].filter((p) => p.length > 1).map(renderPath);
}

function renderPath(hops) {
  const hopLink = (hop) => traceLink(hop.slice(hop.indexOf(":") + 1));
  const section = el("section", { class: "path" }, el("h2", {}, `Delivery path (${hops.length} hops)`));
  const list = el("ol", {});
  for (const it of hops) {
    const t = it.trace;
    const qid = (t.queue_ids && t.queue_ids[0]) || t.trace_id;
    const prev = (it.rows.find((r) => r.prev_hop) || {}).prev_hop;
    const head = el("div", {}, el("strong", {}, t.host || ""), " ", traceLink(qid), " ",
      fmtTime(t.first_time), " → ", fmtTime(t.last_time));
    if (prev) head.append(" from ", hopLink(prev));
    const rcpts = el("ul", {});
    for (const r of it.rows) {
      if (!r.to) continue;
      const li = el("li", {}, el("span", { class: "mono" }, r.to), " ", statusBadge(r.status));
      if (r.folder) li.append(` (${r.folder})`);
      if (r.next_hop) li.append(" → ", hopLink(r.next_hop));
      rcpts.append(li);
    }
    list.append(el("li", {}, head, rcpts));
  }
  section.append(list);
  return section;
}

function renderTrace(item) {
  const t = item.trace;
  const section = el("article", { class: "trace" });
  const qid = (t.queue_ids && t.queue_ids[0]) || "NOQUEUE (rejected before queueing)";
  section.append(el("h2", {}, "Message ", el("span", { class: "mono" }, qid),
    t.host ? ` on ${t.host}` : "", ` (${t.mta})`, t.direction ? `, ${t.direction}` : ""));

  const facts = el("table", { class: "facts" });
  kv(facts, "Message-ID", t.message_id ? `<${t.message_id}>` : null);
  kv(facts, "From", t.from === "" ? "<> (null sender)" : t.from);
  kv(facts, "Header-From", t.header_from);
  if (t.subject) {
    const shown = decodeSubject(t.subject);
    kv(facts, "Subject", shown, shown !== t.subject ? el("span", { class: "hint" }, `  (as logged: ${t.subject})`) : null);
  }
  kv(facts, "Size", t.size !== null && t.size !== undefined ? `${t.size} bytes` : null);
  const c = t.client || {};
  if (c.ip) {
    let client = `${c.name || ""}[${c.ip}]`;
    if (c.helo) client += ` helo=${c.helo}`;
    if (c.sasl_user) client += ` sasl_user=${c.sasl_user}`;
    kv(facts, "Client", client);
  } else if (t.queue_ids && t.queue_ids.length) {
    kv(facts, "Client", "local submission");
  }
  kv(facts, "Time", `${fmtTime(t.first_time)} … ${fmtTime(t.last_time)} (${zone()})`,
    el("span", { class: "hint" }, ` ${fmtDuration((new Date(t.last_time) - new Date(t.first_time)) / 1000)}`));
  if (t.queue_ids && t.queue_ids.length > 1) kv(facts, "Queue IDs", t.queue_ids.join(" → "));
  if (t.filter) {
    kv(facts, "Content filter", `${t.filter.passed ? "Passed" : "Blocked"} ${t.filter.category}` +
      (t.filter.quarantine ? `, quarantine ${t.filter.quarantine}` : ""));
  }
  for (const a of t.actions || []) kv(facts, "Action", a);
  for (const l of t.links || []) {
    kv(facts, "Related", `${LINK_WORDS[l.kind] || l.kind} `, traceLink(l.queue_id));
  }
  if (t.spam_verdict || t.spam_score !== null && t.spam_score !== undefined) {
    kv(facts, "Spam verdict", (t.spam_verdict || "") +
      (t.spam_score !== null && t.spam_score !== undefined ? ` (score ${t.spam_score})` : ""));
  }
  if (t.virus) kv(facts, "Virus", t.virus);
  for (const [key, name] of [["spf", "SPF"], ["dkim", "DKIM"], ["dmarc", "DMARC"]]) {
    const a = t[key];
    if (a) kv(facts, name, a.result + (a.domain ? ` (${a.domain})` : ""));
  }
  for (const p of t.policy_actions || []) {
    kv(facts, "Policy", `${p.source}: ${p.action}` + (p.detail ? ` — ${p.detail}` : ""));
  }
  kv(facts, "Trace ID", el("span", { class: "mono" }, t.trace_id));
  // fields added by later versions: shown as they are
  for (const [k, v] of Object.entries(t)) {
    if (!TRACE_KEYS.has(k) && v !== null && v !== undefined) kv(facts, k, plain(v));
  }
  section.append(facts);

  section.append(el("h3", {}, "What happened"));
  const events = el("ol", { class: "events" });
  for (const e of plainEvents(t, item.lines || [])) {
    events.append(el("li", {}, el("span", { class: "time" }, e.time ? fmtTime(e.time) : ""), " ",
      el("span", { class: `what${e.bad ? " bad" : ""}` }, e.text)));
  }
  section.append(events);

  section.append(el("h3", {}, "Recipients"));
  const recipients = el("table", { class: "rows recipients" },
    el("thead", {}, el("tr", {}, ...["Recipient", "Status", "DSN", "Relay", "Reply", "Folder", "Attempts", "Delay", "When"]
      .map((h) => el("th", {}, h)))));
  const rb = el("tbody");
  const rcpts = t.recipients || [];
  if (rcpts.length === 0) rb.append(el("tr", {}, el("td", { colspan: 9 }, "(none logged yet) "), ));
  for (const r of rcpts) {
    const d = r.delays;
    // Postfix's delays=a/b/c/d, in words
    const delay = d
      ? el("span", { class: "delays" }, `total ${d.total} s`,
        ...DELAY_PARTS.map(([k, name]) => el("span", { class: "delay-part" }, `${name} ${d[k]} s`)))
      : "";
    rb.append(el("tr", {},
      el("td", { class: "addr" }, r.address || "-", r.orig_to ? el("span", { class: "orig" }, ` (was ${r.orig_to})`) : null),
      el("td", {}, statusBadge(r.status)),
      el("td", { class: "mono" }, r.dsn || ""),
      el("td", { class: "relay" }, r.relay || ""),
      el("td", { class: "response" }, r.response || ""),
      el("td", {}, r.folder || ""),
      el("td", {}, r.attempts ? String(r.attempts) : ""),
      el("td", {}, delay),
      el("td", { class: "time" }, r.time ? fmtTime(r.time) : ""),
    ));
  }
  recipients.append(rb);
  section.append(recipients);

  // row fields beyond the known ones (added by later versions), per recipient
  const extras = (item.rows || []).map((row) => Object.entries(row).filter(([k, v]) => !ROW_KEYS.has(k) && v !== null && v !== undefined));
  if (extras.some((e) => e.length)) {
    section.append(el("h3", {}, "More about each recipient"));
    const more = el("table", { class: "facts extra-fields" });
    (item.rows || []).forEach((row, i) => {
      for (const [k, v] of extras[i]) kv(more, `${row.to || "-"} · ${k}`, plain(v));
    });
    section.append(more);
  }

  const lines = item.lines || [];
  section.append(el("h3", {}, `Timeline (${lines.length} events)`));
  const tl = el("table", { class: "rows timeline" },
    el("thead", {}, el("tr", {}, ...["Time", "Since first", "Step", "Event"].map((h) => el("th", {}, h)))));
  const tb = el("tbody");
  const first = lines.length ? new Date(lines[0].time) : null;
  let prev = first;
  for (const l of lines) {
    const at = new Date(l.time);
    tb.append(el("tr", {},
      el("td", { class: "time" }, fmtTime(l.time)),
      el("td", { class: "delta" }, fmtDuration((at - first) / 1000)),
      el("td", { class: "delta" }, fmtDuration((at - prev) / 1000)),
      el("td", { class: "event" }, eventText(l.text)),
    ));
    prev = at;
  }
  tl.append(tb);
  section.append(tl);

  section.append(el("h3", {}, "Raw log lines"));
  const pre = el("pre", { class: "raw" });
  for (const l of lines) {
    const name = (l.file || "").split("/").pop();
    pre.append(el("span", { class: "where" }, `${name}:${l.line}  `), l.text, "\n");
  }
  section.append(pre);
  return section;
}

const DELAY_PARTS = [["before_qmgr", "before queue manager"], ["in_qmgr", "in queue"],
  ["conn_setup", "connection setup"], ["transmission", "transmission"]];

// "mx.example.org[192.0.2.1]:25" → "mx.example.org [192.0.2.1]"
function hostText(relay) {
  const m = /^([^[\s]*)\[([^\]]*)\](?::\d+)?$/.exec(relay || "");
  if (!m) return relay || "";
  return m[1] ? `${m[1]} [${m[2]}]` : `[${m[2]}]`;
}

// The story of a message in plain words, from its trace and raw lines: where it came from,
// the filter's verdict, the messages it led to, and per recipient its deferrals (in a group:
// "Deferred ×3: the last reply") and how it ended. [{time, text, bad}]
function plainEvents(t, lines) {
  const out = [];
  const c = t.client || {};
  if (c.ip) {
    // no queue id: turned away before it was queued
    const came = t.queue_ids && t.queue_ids.length ? "Received" : "Connection";
    let text = `${came} from ${c.name || "unknown"} [${c.ip}]`;
    if (c.sasl_user) text += `, authenticated as ${c.sasl_user}`;
    out.push({ time: t.first_time, text });
  } else if (t.queue_ids && t.queue_ids.length) {
    out.push({ time: t.first_time, text: "Submitted on the server itself" });
  }
  const scanners = ["amavis", "rspamd", "spamassassin", "clamav", "mimedefang"];
  const scanner = ((t.policy_actions || []).find((p) => scanners.includes(p.source)) || {}).source;
  const f = t.filter;
  if (f) {
    const line = lines.find((l) => /\b(amavis|amavisd)\[/.test(l.text || "") && /\b(Passed|Blocked)\b/.test(l.text || ""));
    let text = `${f.passed ? "Scanned" : "Blocked"} by ${scanner || "the content filter"}: ${f.category}`;
    if (f.quarantine) text += `, quarantined as ${f.quarantine}`;
    out.push({ time: line ? line.time : null, text, bad: !f.passed });
  } else if (t.spam_verdict) {
    const score = t.spam_score !== null && t.spam_score !== undefined ? ` (score ${t.spam_score})` : "";
    out.push({ time: null, text: `Checked by ${scanner || "the spam filter"}: ${t.spam_verdict}${score}` });
  }
  if (t.virus) out.push({ time: null, text: `Virus found: ${t.virus}`, bad: true });
  for (const l of t.links || []) {
    out.push({ time: null, text: `${(LINK_WORDS[l.kind] || l.kind).replace(/^./, (x) => x.toUpperCase())} ${l.queue_id}` });
  }
  const rcpts = t.recipients || [];
  if (rcpts.length === 0) out.push({ time: t.last_time, text: "No recipient logged yet: still in the queue" });
  const several = rcpts.length > 1;
  for (const r of rcpts) {
    const who = several ? `${r.address || "-"}: ` : "";
    // the deferrals, from the lines that say so
    const deferred = r.address
      ? lines.filter((l) => (l.text || "").includes(`to=<${r.address}>`) && /status=deferred\b/.test(l.text || ""))
      : [];
    const reply = (l) => {
      const m = /status=deferred \((.*)\)\s*$/.exec(l.text || "");
      return m ? m[1] : "";
    };
    const ended = r.status !== "deferred" && r.status !== "in-progress";
    if (deferred.length) {
      const last = deferred[deferred.length - 1];
      const why = ended ? reply(last) : (r.response || reply(last));
      out.push({ time: deferred[0].time, text: `${who}Deferred ×${deferred.length}${why ? `: ${why}` : ""}`, bad: true });
    } else if (r.status === "deferred") {
      const n = r.attempts || 1;
      out.push({ time: r.time, text: `${who}Deferred ×${n}${r.response ? `: ${r.response}` : ""}`, bad: true });
    }
    const ending = recipientEnding(r, t);
    if (ending) out.push({ time: r.time, text: who + ending.text, bad: ending.bad });
  }
  return out;
}

// how a recipient ended, in words (null while it waits)
function recipientEnding(r, t) {
  // the DSN, unless the reply starts with it
  const said = [r.response && r.response.startsWith(r.dsn || "\u0000") ? null : r.dsn, r.response];
  const reply = said.some(Boolean) ? `: ${said.filter(Boolean).join(" ")}` : "";
  const relay = r.relay && r.relay !== "none" ? hostText(r.relay) : "";
  switch (r.status) {
    case "delivered":
      if (r.folder) return { text: `Delivered to ${r.folder}` };
      if (r.local_delivery) return { text: `Delivered to the mailbox${relay ? ` (${relay})` : ""}` };
      return { text: relay ? `Relayed to ${relay}` : "Delivered" };
    case "spam":
      return { text: `Delivered as spam${r.folder ? ` to ${r.folder}` : ""}`, bad: true };
    case "bounced":
      return { text: `Bounced${reply}`, bad: true };
    case "expired":
      return { text: `Expired: given up after ${r.attempts || "several"} attempts, returned to the sender`, bad: true };
    case "rejected":
      return { text: `Rejected${reply}`, bad: true };
    case "quarantined": {
      const q = t.filter && t.filter.quarantine;
      return { text: `Quarantined${q ? ` as ${q}` : ""}${reply}`, bad: true };
    }
    case "discarded":
      return { text: `Discarded${reply}`, bad: true };
    case "expanded":
      return { text: "Expanded (alias or list) to other recipients" };
    case "deferred":
    case "in-progress":
      return null;
    default:
      return { text: `${r.status}${reply}` };
  }
}

// "Nov 24 08:01:02 mx1 postfix/smtpd[123]: ABC: client=…" → "postfix/smtpd: ABC: client=…"
function eventText(line) {
  const m = /^(?:\S+\s+\d+\s+[\d:.]+|\d{4}-\d\d-\d\dT\S+)\s+\S+\s+([^\s:[]+)(?:\[\d+\])?:\s(.*)$/.exec(line || "");
  return m ? `${m[1]}: ${m[2]}` : (line || "");
}

// RFC 2047 encoded words (=?UTF-8?Q?Ihre_Rechnung?=) as people read them; the raw form stays
// in the title. Anything that does not decode is shown as it is.
function decodeSubject(text) {
  if (!text || !text.includes("=?")) return text || "";
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  const joined = text.replace(/(\?=)\s+(?==\?)/g, "$1");
  try {
    return joined.replace(word, (all, charset, enc, data) => {
      let bytes;
      if (enc.toUpperCase() === "B") {
        bytes = Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0));
      } else {
        const out = [];
        const q = data.replace(/_/g, " ");
        for (let i = 0; i < q.length; i++) {
          if (q[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(q.slice(i + 1, i + 3))) {
            out.push(parseInt(q.slice(i + 1, i + 3), 16));
            i += 2;
          } else {
            out.push(q.charCodeAt(i) & 0xff);
          }
        }
        bytes = Uint8Array.from(out);
      }
      try {
        return new TextDecoder(charset.split("*")[0]).decode(bytes);
      } catch (e) {
        return all;
      }
    });
  } catch (e) {
    return text;
  }
}

// the decoded subject; its title the whole of it, and the logged form when that differs
function subjectCell(subject, cls) {
  const shown = decodeSubject(subject);
  const title = shown !== subject ? `${shown}\n(as logged: ${subject})` : shown;
  return el("td", { class: cls, title: title || null }, shown);
}

function plain(v) {
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

// ---- saved searches (this browser's localStorage) ------------------------------------------

function savedSearches() {
  try {
    const list = JSON.parse(localStorage.getItem(SAVED_KEY) || "[]");
    return Array.isArray(list) ? list.filter((x) => x && typeof x.name === "string" && typeof x.query === "string") : [];
  } catch (e) {
    return [];
  }
}

function keepSaved(list) {
  try {
    localStorage.setItem(SAVED_KEY, JSON.stringify(list));
  } catch (e) {
    showError(`The saved searches could not be kept: ${e.message}`);
  }
  renderSaved();
}

function renderSaved() {
  const list = $("saved-list");
  clear(list);
  const saved = savedSearches();
  $("saved-none").hidden = saved.length > 0;
  for (const x of saved) {
    list.append(el("li", {},
      el("button", { type: "button", class: "link apply", title: x.query, onclick: () => applySaved(x) }, x.name),
      el("button", {
        type: "button", class: "secondary small delete", "aria-label": `Delete the saved search ${x.name}`,
        onclick: () => keepSaved(savedSearches().filter((y) => y.name !== x.name)),
      }, "Delete")));
  }
}

function applySaved(x) {
  const p = new URLSearchParams(x.query);
  for (const k of ["trace", "page"]) p.delete(k);
  history.pushState(null, "", pageUrl(p));
  page = 1;
  lastSearch = null;
  route();
}

// ---- wiring -------------------------------------------------------------------------------

function updateUrl(push) {
  const p = formToParams();
  const cur = new URLSearchParams(location.search);
  if (cur.get("trace") && !$("detail").hidden) p.set("trace", cur.get("trace"));
  if (page > 1) p.set("page", String(page));
  if (perPage !== 50) p.set("per_page", String(perPage));
  if (sortKey !== "time" || sortDir !== "desc") p.set("sort", `${sortKey}:${sortDir}`);
  const url = pageUrl(p);
  if (url !== location.pathname + location.search) {
    if (push) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }
}

async function route() {
  const p = new URLSearchParams(location.search);
  // no window asked: the last 48 hours ("any time" is range=any)
  const windowed = ["last", "since", "until"].some((k) => p.get(k)) || p.get("range") === "any";
  if (!windowed && !p.get("trace")) {
    p.set("last", DEFAULT_RANGE);
    history.replaceState(null, "", pageUrl(p));
  }
  paramsToForm(p);
  const sort = (p.get("sort") || "time:desc").split(":");
  sortKey = COLUMNS.concat([PATH_COLUMN]).some((c) => c[0] === sort[0]) ? sort[0] : "time";
  sortDir = sort[1] === "asc" ? "asc" : "desc";
  page = Math.max(1, parseInt(p.get("page") || "1", 10) || 1);
  perPage = PAGE_SIZES.includes(p.get("per_page")) ? parseInt(p.get("per_page"), 10) : 50;
  $("per-page").value = String(perPage);
  if (!p.get("timezone")) {
    p.set("timezone", zone());
    history.replaceState(null, "", pageUrl(p));
  }
  const id = p.get("trace");
  if (id) {
    await openTrace(id, false);
  } else {
    $("detail").hidden = true;
    $("results").hidden = false;
    await runSearch(p);
  }
}

function setup() {
  const boxes = $("status-boxes");
  for (const s of STATUSES) {
    boxes.append(el("label", { class: "check" }, el("input", { type: "checkbox", name: "status", value: s }), statusBadge(s)));
  }
  const tz = $("timezone");
  const here = browserZone();
  tz.append(el("option", { value: here }, `${here} (this browser)`));
  if (here !== "UTC") tz.append(el("option", { value: "UTC" }, "UTC"));
  let zones = [];
  try { zones = Intl.supportedValuesOf("timeZone"); } catch (e) { zones = []; }
  for (const z of zones) if (z !== here && z !== "UTC") tz.append(el("option", { value: z }, z));
  tz.value = here;

  $("range").addEventListener("change", () => {
    $("custom-range").hidden = $("range").value !== "custom";
  });
  $("timezone").addEventListener("change", () => {
    updateUrl(false);
    if (!$("detail").hidden) route(); else renderRows();
  });
  $("per-page").addEventListener("change", () => {
    perPage = parseInt($("per-page").value, 10);
    page = 1;
    updateUrl(true);
    renderRows();
  });
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    page = 1;
    lastSearch = null;
    $("detail").hidden = true;
    $("results").hidden = false;
    updateUrl(true);
    runSearch(new URLSearchParams(location.search));
  });
  $("reset-button").addEventListener("click", () => {
    history.pushState(null, "", pageUrl(new URLSearchParams({ timezone: zone() })));
    lastSearch = null;
    route();
  });
  $("back-link").addEventListener("click", (ev) => {
    if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    ev.preventDefault();
    history.pushState(null, "", $("back-link").getAttribute("href"));
    route();
  });
  $("csv-link").addEventListener("click", async (ev) => {
    // with a token, a plain link cannot send it: fetch, then save what came
    if (!token()) return;
    ev.preventDefault();
    const res = await fetch($("csv-link").getAttribute("href"), { headers: { Authorization: `Bearer ${token()}` } });
    if (!res.ok) { showError(`CSV: ${res.status} ${res.statusText}`); return; }
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: "mailtrace.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
  $("report-link").addEventListener("click", async (ev) => {
    // with a token, a plain link cannot send it: fetch, then show what came
    if (!token()) return;
    ev.preventDefault();
    const res = await fetch($("report-link").getAttribute("href"), { headers: { Authorization: `Bearer ${token()}` } });
    if (!res.ok) { showError(`Report: ${res.status} ${res.statusText}`); return; }
    const url = URL.createObjectURL(await res.blob());
    window.open(url, "_blank", "noopener");
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });
  $("copy-json").addEventListener("click", () => copy("json"));
  $("copy-text").addEventListener("click", () => copy("text"));
  $("save-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("save-name").value.trim();
    if (!name) return;
    // the criteria as the form holds them (the window too), under this name (replacing one)
    const saved = savedSearches().filter((x) => x.name !== name);
    saved.push({ name, query: formToParams().toString() });
    saved.sort((a, b) => a.name.localeCompare(b.name));
    $("save-name").value = "";
    keepSaved(saved);
  });
  renderSaved();
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-input").value = "";
    $("token-panel").hidden = true;
    lastSearch = null;
    route();
  });
  window.addEventListener("popstate", () => route());
  route();
}

document.addEventListener("DOMContentLoaded", setup);
