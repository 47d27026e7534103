"use strict";
// trustmap's web UI: one page whose views (#/overview, #/inventory, #/asset/ID, #/findings,
// #/scans, #/diff, #/audit) are drawn from the API's JSON with the helpers of dom.js. Every
// string from the API is set with textContent (el(), row()), never parsed as markup. The API
// token lives in sessionStorage and goes out only as `Authorization: Bearer` to this origin.
// Admin controls are drawn for admin tokens only; the API checks the role again.

const TOKEN = "trustmap.token";
const SEVERITIES = ["critical", "high", "medium", "low", "info"];
const KINDS = ["certificate", "private-key", "public-key", "keystore", "secret", "endpoint", "consumer"];
const DAY = 864e5;
let me = null;

const $ = id => document.getElementById(id);

class ApiFail extends Error {
  constructor(status, code, message) { super(message || ("HTTP " + status)); this.status = status; this.code = code; }
}

// One API call: JSON in, JSON out; a 401 signs out.
async function api(path, method, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(TOKEN) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch("/api/v1" + path, { method: method || "GET", headers, cache: "no-store",
    credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body) });
  let v = null;
  try { v = await r.json(); } catch (e) { v = null; }
  if (!r.ok) {
    const err = v && v.error ? v.error : {};
    if (r.status === 401) signOut("The server refused the token: " + (err.message || "unauthorized"));
    throw new ApiFail(r.status, err.code, err.message);
  }
  return v;
}

function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "" && v !== false) p.set(k, v === true ? "true" : v);
  const s = p.toString();
  return s ? "?" + s : "";
}

// ---- sign-in ----

function signOut(message) {
  sessionStorage.removeItem(TOKEN);
  me = null;
  $("nav").hidden = true; $("signout").hidden = true; $("who").textContent = "";
  $("page").textContent = "";
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
}

async function signIn() {
  try {
    me = await api("/me");
  } catch (e) {
    if (sessionStorage.getItem(TOKEN)) {
      signOut(e.status === 403 ? "This token cannot read the inventory (a scanner token can only push)." : "Sign-in failed: " + e.message);
    }
    return false;
  }
  $("signin").hidden = true; $("nav").hidden = false; $("signout").hidden = false;
  $("who").textContent = show(me.name + " (" + me.role + ")");
  document.body.dataset.role = me.role;
  return true;
}

function isAdmin() { return me && me.role === "admin"; }

// ---- page scaffolding ----

function section(title, id, wide) {
  const s = el("section", null, wide ? "wide" : null);
  if (id) s.id = id;
  s.appendChild(el("h2", title));
  $("page").appendChild(s);
  return s;
}
function table(parent, heads, id) {
  const t = el("table"), th = el("thead"), tr = el("tr"), tb = el("tbody");
  for (const h of heads) tr.appendChild(el("th", h));
  th.appendChild(tr); t.appendChild(th); t.appendChild(tb);
  if (id) t.id = id;
  parent.appendChild(t);
  return tb;
}
function assetLink(id, text) { const a = el("a", text || id, "asset-link"); a.href = "#/asset/" + encodeURIComponent(id); a.dataset.id = id; return a; }
function code(text) { return el("code", text); }
function sev(s) { return el("span", s, "sev sev-" + s); }
function button(text, onClick, cls) { const b = el("button", text, cls); b.type = "button"; b.addEventListener("click", onClick); return b; }
function input(name, placeholder, value, size) {
  const i = el("input"); i.name = name; i.placeholder = placeholder; i.setAttribute("aria-label", placeholder);
  if (value !== undefined && value !== null) i.value = value; if (size) i.size = size; return i;
}
function placeText(p) { return (p.host ? p.host + ":" : "") + p.path + (p.line ? ":" + p.line : ""); }
function entries(obj) { return Object.entries(obj || {}).sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])); }
function fail(e) { const p = $("error"); p.hidden = false; p.textContent = show(e.message || String(e)); }
function stat(box, label, n) { const d = el("div", null, "stat"); d.appendChild(el("b", n)); d.appendChild(el("span", label, "muted")); d.dataset.stat = label; box.appendChild(d); }

// ---- overview ----

async function overview() {
  const [o, scans] = await Promise.all([api("/overview"), api("/scans")]);
  const posture = section("Posture", "posture", true), stats = el("div", null, "stats"); stats.id = "stats";
  posture.appendChild(stats);
  stat(stats, "assets", o.assets);
  for (const k of KINDS) if (o.by_kind[k]) stat(stats, k, o.by_kind[k]);
  stat(stats, "open findings", o.findings.open);
  stat(stats, "waived", o.findings.waived);
  stat(stats, "expired", o.expiry.expired);
  stat(stats, "expiring in " + o.expiry.days + " days", o.expiry.within);
  posture.appendChild(el("p", "Latest scan of each host and roots: " + o.scans.length + " scan(s); judged at " + o.now + ".", "muted"));

  // Expiry timeline: the next 90 days a week a column, the expired ones first.
  const tl = section("Certificate expiry: the next " + o.expiry.days + " days", "timeline", true);
  const box = el("div"); box.id = "timeline-chart"; tl.appendChild(box);
  const now = Date.parse(o.now), weeks = Math.ceil(o.expiry.days / 7);
  const cols = [];
  for (let i = 0; i < weeks; i++) cols.push({ label: new Date(now + i * 7 * DAY).toISOString().slice(5, 10), items: [] });
  for (const c of o.expiry.certificates) {
    const t = Date.parse(c.not_after), w = Math.min(weeks - 1, Math.floor((t - now) / (7 * DAY)));
    cols[w].items.push({ id: c.id, fill: t < now + 30 * DAY ? "#d68910" : "#2e86c1", title: c.label + ", expires " + c.not_after + ", owner " + c.owner });
  }
  stackChart(box, cols, i => i % 2 === 0, id => { location.hash = "#/asset/" + encodeURIComponent(id); },
    [["#d68910", "within 30 days"], ["#2e86c1", "later"]]).setAttribute("aria-label", "certificates by expiry week");
  tl.appendChild(el("p", o.expiry.expired + " expired; " + o.expiry.within + " expire within " + o.expiry.days + " days" +
    (o.expiry.truncated ? " (the first " + o.expiry.certificates.length + " drawn)" : "") + ".", "muted"));

  const bs = section("Open findings by severity", "by-severity"); bs.appendChild(el("table")).appendChild(el("tbody"));
  tally("#by-severity", SEVERITIES.filter(s => o.findings.by_severity[s]).map(s => [s, o.findings.by_severity[s]]), s => {
    const a = el("a"); a.href = "#/findings" + qs({ severity: s }); a.appendChild(sev(s)); return a;
  });
  const pq = section("Post-quantum readiness", "pqc"); pq.appendChild(el("table")).appendChild(el("tbody"));
  tally("#pqc", entries(o.pq), c => c === "quantum-vulnerable" ? "quantum-vulnerable (RSA, EC, DSA, DH, EdDSA)" : c === "unknown" ? "unknown (encrypted or unrecognised)" : c);
  pq.appendChild(el("p", "NIST IR 8547 (draft): RSA and elliptic-curve algorithms deprecated after 2030, disallowed after 2035.", "muted"));
  const bk = section("Assets by kind", "by-kind"); bk.appendChild(el("table")).appendChild(el("tbody"));
  tally("#by-kind", entries(o.by_kind), k => { const a = el("a", k); a.href = "#/inventory" + qs({ kind: k }); return a; });

  trend(section("Trend across scans", "trend", true), scans.scans);
}

// A line per series (assets, findings) over the last 60 scans, oldest left.
function trend(box, all) {
  const scans = all.slice(-60);
  if (scans.length < 1) { box.appendChild(el("p", "no scans yet", "muted")); return; }
  const series = [["assets", "#2e86c1"], ["findings", "#c0392b"]];
  const w = 760, h = 140, pad = 30, max = Math.max(1, ...scans.flatMap(s => series.map(([k]) => s.counts[k] || 0)));
  const x = i => pad + (scans.length === 1 ? (w - 2 * pad) / 2 : i * (w - 2 * pad) / (scans.length - 1));
  const y = n => h - 20 - n * (h - 40) / max;
  const svg = svgEl("svg", { viewBox: "0 0 " + w + " " + h, width: "100%", role: "img", "aria-label": "assets and findings per scan" });
  svg.appendChild(svgEl("line", { x1: pad, x2: w - pad, y1: h - 20, y2: h - 20, stroke: "#d9dde5" }));
  for (const [k, colour] of series) {
    svg.appendChild(svgEl("polyline", { points: scans.map((s, i) => x(i) + "," + y(s.counts[k] || 0)).join(" "), fill: "none", stroke: colour, "stroke-width": 2 }));
    scans.forEach((s, i) => {
      const c = svgEl("circle", { cx: x(i), cy: y(s.counts[k] || 0), r: 3, fill: colour, class: "point" });
      c.dataset.scan = s.id; c.dataset.series = k; c.dataset.value = s.counts[k] || 0;
      const t = svgEl("title", {}); t.textContent = show(s.id + " (" + s.host + ", " + s.started_at + "): " + (s.counts[k] || 0) + " " + k); c.appendChild(t);
      svg.appendChild(c);
    });
  }
  const label = (xx, yy, s, anchor) => { const t = svgEl("text", { x: xx, y: yy, "font-size": "10", "text-anchor": anchor || "middle" }); t.textContent = show(s); svg.appendChild(t); };
  label(pad - 4, y(max) + 3, max, "end"); label(pad - 4, y(0) + 3, 0, "end");
  label(x(0), h - 6, scans[0].started_at.slice(0, 10), scans.length > 1 ? "start" : "middle");
  if (scans.length > 1) label(x(scans.length - 1), h - 6, scans[scans.length - 1].started_at.slice(0, 10), "end");
  box.appendChild(svg);
  const lg = el("div", null, "legend");
  for (const [k, c] of series) { const s = el("span"); const i = el("i"); i.style.background = c; s.appendChild(i); s.appendChild(document.createTextNode(k)); lg.appendChild(s); }
  box.appendChild(lg);
}

// ---- inventory ----

// The API's filters (those of `trustmap assets`), kept in the page's hash.
const FILTERS = [["kind", "kind"], ["owner", "owner"], ["host", "host"], ["path", "path glob, e.g. *.pem"], ["issuer", "issuer"],
  ["algorithm", "algorithm"], ["expiring", "expiring within, e.g. 30d"]];
const FLAGS = [["expired", "expired"], ["unowned", "unowned"], ["quantum_vulnerable", "quantum-vulnerable"], ["include_gone", "include gone"]];
let pageStack = []; // cursors of the pages before the current one

async function inventory(params) {
  const s = section("Inventory", "inventory", true);
  const form = el("form", null, "filters"); form.id = "inventory-filters";
  const search = input("search", "search places (path contains)", params.get("search"), 28); search.type = "search"; search.id = "search";
  form.appendChild(search);
  for (const [k, label] of FILTERS) {
    if (k === "kind") {
      const sel = el("select"); sel.name = "kind"; sel.setAttribute("aria-label", "kind");
      sel.appendChild(el("option", "every kind")).value = "";
      for (const kk of KINDS) { const o = el("option", kk); o.value = kk; sel.appendChild(o); }
      sel.value = params.get("kind") || ""; form.appendChild(sel);
    } else form.appendChild(input(k, label, params.get(k), 16));
  }
  for (const [k, label] of FLAGS) {
    const l = el("label"), c = el("input"); c.type = "checkbox"; c.name = k; c.checked = params.get(k) === "true";
    l.appendChild(c); l.appendChild(document.createTextNode(" " + label + " ")); form.appendChild(l);
  }
  const limit = el("select"); limit.name = "limit"; limit.setAttribute("aria-label", "rows per page");
  for (const n of ["25", "50", "100", "500", "1000"]) { const o = el("option", n + " a page"); o.value = n; limit.appendChild(o); }
  limit.value = params.get("limit") || "50"; form.appendChild(limit);
  const go = el("button", "Apply"); go.type = "submit"; form.appendChild(go);
  form.addEventListener("submit", e => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const f of form.elements) {
      if (!f.name) continue;
      if (f.type === "checkbox") { if (f.checked) p.set(f.name, "true"); } else if (f.value) p.set(f.name, f.value);
    }
    pageStack = [];
    location.hash = "#/inventory" + (p.toString() ? "?" + p : "");
  });
  s.appendChild(form);

  const q = {};
  for (const [k] of FILTERS) if (params.get(k)) q[k] = params.get(k);
  for (const [k] of FLAGS) if (params.get(k) === "true") q[k] = true;
  if (params.get("search")) q.path = (q.path ? q.path : "*" + params.get("search").replace(/[*?[\]{}\\]/g, c => "\\" + c) + "*");
  q.limit = params.get("limit") || "50";
  const cursor = params.get("cursor") || undefined;
  const [page, count] = await Promise.all([api("/assets" + qs({ ...q, cursor })), api("/assets" + qs({ ...q, limit: undefined, count: true }))]);
  const info = el("p", null, "muted"); info.id = "shown";
  info.textContent = count.count + " assets match; page " + (pageStack.length + 1) + " shows " + page.assets.length + ".";
  s.appendChild(info);

  const cols = [["id", "Id"], ["kind", "Kind"], ["label", "Name"], ["place", "Places"], ["owner", "Owner"], ["algorithm", "Algorithm"], ["not_after", "Expires"], ["last_seen", "Last seen"]];
  const t = el("table"); t.id = "assets";
  const head = el("tr"); for (const [k, label] of cols) { const th = el("th", label); th.dataset.key = k; head.appendChild(th); }
  t.appendChild(el("thead")).appendChild(head);
  const tb = el("tbody"); t.appendChild(tb); s.appendChild(t);
  const rows = page.assets.map(a => ({ a, id: a.id, kind: a.kind, label: a.label, place: a.paths[0] || "", owner: a.owner || "unowned",
    algorithm: a.algorithm || "", not_after: a.not_after || "", last_seen: a.last_seen }));
  let sortKey = null, dir = 1;
  const draw = () => {
    tb.textContent = "";
    const shown = sortKey ? [...rows].sort((x, y) => cmp(x[sortKey], y[sortKey]) * dir || cmp(x.id, y.id)) : rows;
    for (const r of shown) {
      const place = r.place + (r.a.paths.length > 1 ? " (+" + (r.a.paths.length - 1) + ")" : "");
      const tr = row(tb, [assetLink(r.id, r.id), r.kind, r.label, place, r.owner, r.algorithm, r.not_after, r.last_seen]);
      tr.dataset.id = r.id; tr.className = "asset";
      if (!r.a.present) tr.children[0].appendChild(el("span", " gone", "badge gone"));
    }
    for (const th of head.children) th.setAttribute("aria-sort", th.dataset.key === sortKey ? (dir > 0 ? "ascending" : "descending") : "none");
  };
  for (const th of head.children) th.addEventListener("click", () => { if (sortKey === th.dataset.key) dir = -dir; else { sortKey = th.dataset.key; dir = 1; } draw(); });
  draw();
  s.appendChild(el("p", "Pages come in the inventory's order (kind, then first seen); a column click sorts the page shown.", "muted"));

  const pager = el("div", null, "pager");
  const base = new URLSearchParams(params); base.delete("cursor");
  const prev = button("Previous page", () => {
    const c = pageStack.pop(); const p = new URLSearchParams(base); if (c) p.set("cursor", c);
    location.hash = "#/inventory?" + p;
  });
  prev.id = "prev"; prev.disabled = pageStack.length === 0;
  const next = button("Next page", () => {
    pageStack.push(cursor || ""); const p = new URLSearchParams(base); p.set("cursor", page.next_cursor);
    location.hash = "#/inventory?" + p;
  });
  next.id = "next"; next.disabled = !page.next_cursor;
  pager.appendChild(prev); pager.appendChild(next);
  s.appendChild(pager);
}

// ---- one asset ----

// Facts as rows: nested objects flattened to dotted names, arrays joined.
function factRows(tb, prefix, v) {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    if (v.every(x => typeof x !== "object" || x === null)) { row(tb, [prefix, v.join(", ")]); return; }
    v.forEach((x, i) => factRows(tb, prefix + "[" + i + "]", x)); return;
  }
  if (typeof v === "object") { for (const [k, x] of Object.entries(v)) factRows(tb, prefix ? prefix + "." + k : k, x); return; }
  row(tb, [prefix, String(v)]);
}

// Relations drawn as a graph: what points at this asset on the left, what it points at on the
// right, this asset in the middle; at most MAX_DRAWN a side (the table lists all).
const MAX_DRAWN = 24;
function graph(box, a) {
  const left = a.relations_in.slice(0, MAX_DRAWN), right = a.relations_out.slice(0, MAX_DRAWN);
  const rows = Math.max(1, left.length, right.length), rh = 34, w = 900, h = rows * rh + 20, nw = 250;
  const svg = svgEl("svg", { viewBox: "0 0 " + w + " " + h, width: "100%", role: "img", "aria-label": "relations of this asset" });
  svg.id = "relation-graph";
  const cut = s => { s = show(s); return s.length > 36 ? s.slice(0, 35) + "\u2026" : s; };
  const node = (x, y, label, cls, id) => {
    const g = svgEl("g", {});
    g.appendChild(svgEl("rect", { x, y, width: nw, height: 24, rx: 4, class: "node" + (cls ? " " + cls : "") }));
    const t = svgEl("text", { x: x + 8, y: y + 16, "font-size": "11", class: cls || "" }); t.textContent = cut(label); g.appendChild(t);
    const tt = svgEl("title", {}); tt.textContent = show(label + (id ? " (" + id + ")" : "")); g.appendChild(tt);
    if (id) { g.setAttribute("class", "link"); g.dataset.id = id; g.addEventListener("click", () => { location.hash = "#/asset/" + encodeURIComponent(id); }); }
    svg.appendChild(g);
  };
  const cy = h / 2 - 12, mid = (w - nw) / 2;
  const edge = (x1, y1, x2, y2, label) => {
    svg.appendChild(svgEl("path", { d: "M" + x1 + "," + y1 + " C" + (x1 + x2) / 2 + "," + y1 + " " + (x1 + x2) / 2 + "," + y2 + " " + x2 + "," + y2, "marker-end": "url(#arrow)" }));
    const t = svgEl("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 3, "font-size": "10", "text-anchor": "middle" }); t.textContent = show(label); svg.appendChild(t);
  };
  const defs = svgEl("defs", {}), m = svgEl("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" });
  m.appendChild(svgEl("path", { d: "M0,0 L10,5 L0,10 z", fill: "#9aa5b8" })); defs.appendChild(m); svg.appendChild(defs);
  const yOf = (i, n) => 10 + (rows - n) * rh / 2 + i * rh;
  left.forEach((r, i) => { const y = yOf(i, left.length); node(0, y, r.label || r.asset, "", r.asset); edge(nw, y + 12, mid, cy + 12, r.type); });
  right.forEach((r, i) => { const y = yOf(i, right.length); node(w - nw, y, r.label || r.asset, "", r.asset); edge(mid + nw, cy + 12, w - nw, y + 12, r.type); });
  node(mid, cy, a.label, "self", null);
  box.appendChild(svg);
  const more = a.relations_in.length - left.length + a.relations_out.length - right.length;
  if (more > 0) box.appendChild(el("p", more + " more relations are in the table, not drawn.", "muted"));
}

async function asset(id) {
  const v = await api("/assets/" + encodeURIComponent(id));
  const a = v.asset;
  const head = section(a.label, "asset", true);
  head.querySelector("h2").id = "asset-title";
  const line = el("p", a.kind + " " + a.id + ", " + a.fingerprint + ", first seen " + a.first_seen + ", last seen " + a.last_seen, "muted");
  head.appendChild(line);
  if (!a.present) head.appendChild(el("span", "gone: not seen by the latest scan of its roots", "badge gone"));

  const facts = section("Facts", "facts", true);
  const ftb = table(facts, ["fact", "value"], "asset-facts");
  factRows(ftb, "", a.facts);
  row(ftb, ["age since", a.age_since]);

  const own = section("Owners", "owners", true);
  const otb = table(own, ["role", "name", "source", "in effect"], "asset-owners");
  for (const o of a.owners) row(otb, [o.role, o.name, o.source + (o.explicit ? " (explicit)" : ""), o.effective ? "yes" : "no"]);
  if (!a.owners.length) row(otb, [el("span", "unowned", "muted")]);
  if (isAdmin()) {
    const f = el("form", null, "inline admin"); f.id = "owner-form";
    const owner = input("owner", "owner team", a.owner), backup = input("backup", "backup team", a.backup);
    const b = el("button", "Set owners"); b.type = "submit";
    f.appendChild(owner); f.appendChild(backup); f.appendChild(b);
    f.addEventListener("submit", async e => {
      e.preventDefault();
      const body = {}; if (owner.value.trim()) body.owner = owner.value.trim(); if (backup.value.trim()) body.backup = backup.value.trim();
      try { await api("/assets/" + encodeURIComponent(a.id) + "/owners", "PUT", body); route(); } catch (err) { fail(err); }
    });
    own.appendChild(f);
  }

  const places = section("Places (" + a.occurrences.length + ")", "places", true);
  const ptb = table(places, ["host", "place", "inside", "root", "first seen", "last seen", "now"], "asset-places");
  for (const o of a.occurrences) row(ptb, [o.host, code(o.path + (o.line ? ":" + o.line : "")), o.container || "", o.root, o.first_seen, o.last_seen, o.present ? "present" : "gone"]);

  const rel = section("Relations (" + (a.relations_in.length + a.relations_out.length) + ")", "relations", true);
  const gbox = el("div", null, "graph"); rel.appendChild(gbox); graph(gbox, a);
  const rtb = table(rel, ["relation", "asset"], "asset-relations");
  for (const r of a.relations_out) row(rtb, [r.type + " \u2192", assetLink(r.asset, (r.label || r.asset) + " (" + r.asset + ")")]);
  for (const r of a.relations_in) row(rtb, ["\u2190 " + r.type, assetLink(r.asset, (r.label || r.asset) + " (" + r.asset + ")")]);

  const imp = section("Impact: what breaks if this fails", "impact", true);
  const im = v.impact;
  imp.appendChild(el("p", im.total + " asset(s) break" + (im.cut_short ? " (the walk stopped at its bound)" : "") + ": " +
    (entries(im.by_kind).map(([k, n]) => n + " " + k).join(", ") || "none") + ". Owners to tell: " +
    (entries(im.owners).map(([o, n]) => o + " (" + n + ")").join(", ") || "none") + ".", "muted")).id = "impact-summary";
  const itb = table(imp, ["depth", "kind", "asset", "through", "owner"], "asset-impact");
  for (const n of im.nodes) row(itb, [n.depth, n.kind, assetLink(n.id, n.label), n.relation + " of " + n.via, n.owner || "unowned"]);

  const fs = section("Findings (" + v.findings.length + ")", "asset-findings-section", true);
  const ftb2 = table(fs, ["severity", "rule", "message", "waiver", ""], "asset-findings");
  // Admins see the asset's waivers (GET /waivers is admin-only): one granted since the
  // latest scan is shown on its finding (scans apply waivers, so it counts from the next).
  const waivers = isAdmin() ? (await api("/waivers")).waivers.filter(x => x.asset === a.id) : [];
  for (const f of v.findings) {
    const granted = waivers.find(x => x.rule === f.rule && x.status === "active");
    const tr = row(ftb2, [sev(f.severity), code(f.rule), f.message,
      f.waiver ? "waived by " + f.waiver.by + " until " + f.waiver.until + ": " + f.waiver.reason
        : granted ? "waiver granted by " + granted.by + " until " + granted.until + " (applies from the next scan)" : "", ""]);
    tr.dataset.rule = f.rule;
    if (isAdmin() && !f.waiver && !granted) tr.lastChild.appendChild(button("Waive", () => waiveForm(tr, a.id, f.rule), "admin waive"));
  }
  if (isAdmin()) waiverList(waivers);

  const hist = section("History: scans that saw it (" + a.scans.length + ")", "history", true);
  const htb = table(hist, ["scan", "started"], "asset-history");
  for (const [sid, at] of a.scans.slice().reverse()) row(htb, [code(sid), at]);
}

function waiveForm(tr, assetId, rule) {
  const f = el("form", null, "inline admin"); f.id = "waiver-form";
  const reason = input("reason", "reason", "", 30), until = input("until", "until (YYYY-MM-DD)", new Date(Date.now() + 90 * DAY).toISOString().slice(0, 10), 12);
  const b = el("button", "Grant waiver"); b.type = "submit";
  f.appendChild(reason); f.appendChild(until); f.appendChild(b);
  f.addEventListener("submit", async e => {
    e.preventDefault();
    try { await api("/waivers", "POST", { rule, asset: assetId, reason: reason.value, until: until.value }); route(); } catch (err) { fail(err); }
  });
  tr.lastChild.textContent = ""; tr.lastChild.appendChild(f); reason.focus();
}

// The asset's waivers, for admins, each with a Revoke button while it is active.
function waiverList(mine) {
  const s = section("Waivers (" + mine.length + ")", "waivers", true);
  const tb = table(s, ["id", "rule", "reason", "until", "by", "status", ""], "asset-waivers");
  for (const x of mine) {
    const tr = row(tb, [x.id, code(x.rule), x.reason, x.until, x.by, x.status, ""]);
    if (x.status === "active") tr.lastChild.appendChild(button("Revoke", async () => {
      try { await api("/waivers/" + x.id, "DELETE"); route(); } catch (err) { fail(err); }
    }, "admin"));
  }
}

// ---- findings ----

async function findings(params) {
  const f = {}; for (const k of ["severity", "rule", "owner", "unowned", "host", "path", "waived"]) if (params.get(k)) f[k] = params.get(k);
  const SHOWN = 500;
  const [o, list] = await Promise.all([api("/overview"), api("/findings" + qs(Object.assign({ limit: String(SHOWN) }, f)))]);
  const byOwner = section("Open findings by owner", "by-owner"); byOwner.appendChild(el("table")).appendChild(el("tbody"));
  tally("#by-owner", entries(o.findings.by_owner), k => { const a = el("a", k); a.href = "#/findings" + qs(k === "unowned" ? { unowned: "true" } : { owner: k }); return a; });
  const byRule = section("Open findings by rule", "by-rule"); byRule.appendChild(el("table")).appendChild(el("tbody"));
  tally("#by-rule", entries(o.findings.by_rule), k => { const a = el("a"); a.href = "#/findings" + qs({ rule: k }); a.appendChild(code(k)); return a; });

  const s = section("Findings", "findings", true);
  const form = el("form", null, "filters"); form.id = "findings-filters";
  const sevSel = el("select"); sevSel.name = "severity"; sevSel.setAttribute("aria-label", "at least severity");
  sevSel.appendChild(el("option", "any severity")).value = "";
  for (const x of SEVERITIES) { const op = el("option", x + " and above"); op.value = x; sevSel.appendChild(op); }
  sevSel.value = f.severity || ""; form.appendChild(sevSel);
  for (const [k, label] of [["rule", "rule ids, comma-separated"], ["owner", "owner"], ["host", "host"], ["path", "path glob"]]) form.appendChild(input(k, label, f[k], 18));
  const waived = el("select"); waived.name = "waived"; waived.setAttribute("aria-label", "waived");
  for (const [val, label] of [["", "waived or not"], ["no", "not waived"], ["yes", "waived"]]) { const op = el("option", label); op.value = val; waived.appendChild(op); }
  waived.value = f.waived || ""; form.appendChild(waived);
  const b = el("button", "Apply"); b.type = "submit"; form.appendChild(b);
  form.addEventListener("submit", e => {
    e.preventDefault();
    const p = new URLSearchParams(); for (const x of form.elements) if (x.name && x.value) p.set(x.name, x.value);
    location.hash = "#/findings" + (p.toString() ? "?" + p : "");
  });
  s.appendChild(form);
  const info = el("p", list.matched + " of " + list.total + " findings match" + (list.matched > list.findings.length ? "; the first " + list.findings.length + " shown" : "") + ".", "muted");
  info.id = "findings-count"; s.appendChild(info);
  const tb = table(s, ["severity", "rule", "asset", "place", "owner", "message", "waiver"], "findings-table");
  for (const x of list.findings) {
    const tr = row(tb, [sev(x.severity), code(x.rule), assetLink(x.asset), x.path ? x.path + (x.line ? ":" + x.line : "") : "",
      (x.owners || []).join(", ") || "unowned", x.message, x.waiver ? "until " + x.waiver.until : ""]);
    tr.dataset.rule = x.rule;
  }
}

// ---- scans and diffs ----

async function scans() {
  const v = await api("/scans");
  const s = section("Scans (" + v.scans.length + ")", "scans", true);
  const form = el("form", null, "inline"); form.id = "diff-form";
  const from = el("select"), to = el("select"); from.name = "from"; to.name = "to";
  from.setAttribute("aria-label", "from scan"); to.setAttribute("aria-label", "to scan");
  const list = v.scans.slice().reverse();
  for (const x of list) for (const sel of [from, to]) { const o = el("option", x.id + " (" + x.host + ", " + x.started_at + ")"); o.value = x.id; sel.appendChild(o); }
  if (list.length > 1) from.value = list[1].id;
  const b = el("button", "Compare"); b.type = "submit";
  form.appendChild(el("span", "Compare ")); form.appendChild(from); form.appendChild(el("span", " with ")); form.appendChild(to); form.appendChild(b);
  form.addEventListener("submit", e => { e.preventDefault(); location.hash = "#/diff" + qs({ from: from.value, to: to.value }); });
  s.appendChild(form);
  const tb = table(s, ["scan", "host", "roots", "started", "finished", "assets", "findings", "errors"], "scans-table");
  for (const x of list) {
    const tr = row(tb, [code(x.id), x.host, x.roots.join(", "), x.started_at, x.finished_at, x.counts.assets || 0, x.counts.findings || 0, x.counts.errors || 0]);
    tr.dataset.id = x.id;
  }
}

async function diff(params) {
  const d = await api("/scans/diff" + qs({ from: params.get("from"), to: params.get("to") }));
  const s = section("Changes from " + d.from_scan + " to " + d.to_scan, "diff", true);
  const counts = el("div", null, "stats"); counts.id = "diff-counts"; s.appendChild(counts);
  for (const k of ["new", "gone", "rotated", "moved"]) stat(counts, k, d[k].length);
  const list = (title, id, items, cells, heads) => {
    const x = section(title + " (" + items.length + ")", id, true);
    const tb = table(x, heads, id + "-table");
    for (const it of items.slice(0, 1000)) row(tb, cells(it));
    if (items.length > 1000) x.appendChild(el("p", "the first 1000 of " + items.length + " shown", "muted"));
  };
  list("New", "diff-new", d.new, id => [assetLink(id)], ["asset"]);
  list("Gone", "diff-gone", d.gone, id => [assetLink(id)], ["asset"]);
  list("Rotated", "diff-rotated", d.rotated, r => [placeText(r), assetLink(r.from), assetLink(r.to)], ["place", "was", "now"]);
  list("Moved", "diff-moved", d.moved, m => [assetLink(m.id), m.from.map(placeText).join(", "), m.to.map(placeText).join(", ")], ["asset", "from", "to"]);
}

// ---- audit log ----

async function audit(params) {
  const [ver, log] = await Promise.all([api("/audit/verify"), api("/audit" + qs({ since: params.get("since"), limit: 500 }))]);
  const s = section("Audit log", "audit", true);
  const verdict = el("p", null, "verdict"); verdict.id = "audit-verdict";
  verdict.dataset.intact = ver.intact;
  if (ver.intact) { verdict.className = "verdict ok"; verdict.textContent = "Verified: the chain of " + ver.verdict.events + " events is intact and vouches for every waiver, owner and scan."; }
  else {
    verdict.className = "verdict error";
    const b = ver.verdict.broken;
    verdict.textContent = show("NOT verified: " + (b ? "the chain breaks at event " + b.seq + " (" + b.kind + " " + b.subject + "): " + b.reason : "") +
      [...ver.verdict.unvouched, ...ver.integrity_problems.map(p => typeof p === "string" ? p : JSON.stringify(p))].join("; "));
  }
  s.appendChild(verdict);
  if (ver.verdict.head) s.appendChild(el("p", "head " + ver.verdict.head, "muted"));
  const tb = table(s, ["seq", "at", "event", "subject", "by", "details"], "audit-table");
  for (const e of log.events) {
    const d = e.data || {};
    const tr = row(tb, [e.seq, e.at, e.kind, code(e.subject), d.by || d.pushed_by || "", el("code", JSON.stringify(d), "data")]);
    tr.dataset.kind = e.kind;
  }
  if (log.truncated && log.events.length) {
    const last = log.events[log.events.length - 1];
    const a = el("a", "Later events"); a.href = "#/audit" + qs({ since: last.at }); a.id = "audit-more"; s.appendChild(a);
  }
}

// ---- routing ----

async function route() {
  $("error").hidden = true;
  if (!me && !(await signIn())) return;
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/");
  const page = parts[0] || "overview";
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("current", a.dataset.page === (page === "asset" ? "inventory" : page === "diff" ? "scans" : page));
  $("page").textContent = "";
  $("page").dataset.page = "loading";
  try {
    if (page === "overview") await overview();
    else if (page === "inventory") await inventory(params);
    else if (page === "asset") await asset(decodeURIComponent(parts.slice(1).join("/")));
    else if (page === "findings") await findings(params);
    else if (page === "scans") await scans();
    else if (page === "diff") await diff(params);
    else if (page === "audit") await audit(params);
    else throw new Error("no such page: " + page);
  } catch (e) { fail(e); }
  $("page").dataset.page = page;
  document.title = "trustmap: " + page;
}

$("signin-form").addEventListener("submit", e => {
  e.preventDefault();
  const t = $("token").value.trim();
  if (!t) return;
  sessionStorage.setItem(TOKEN, t);
  $("token").value = "";
  route();
});
$("signout").addEventListener("click", () => signOut("Signed out."));
window.addEventListener("hashchange", route);
if (sessionStorage.getItem(TOKEN)) route(); else signOut();
