"use strict";
// trustmap's HTML report: renders every view from the JSON in #data, with the helpers of
// dom.js (inlined before this file). Text from the report is only ever set with textContent
// (through el()/show()), never parsed as markup.
const D = JSON.parse(document.getElementById("data").textContent);
const R = D.report, NOW = Date.parse(D.now), DAY = 864e5;
const SEV = ["critical", "high", "medium", "low", "info"];
const byId = new Map(R.assets.map(a => [a.id, a]));
const findingsOf = new Map();
for (const f of R.findings) { if (!findingsOf.has(f.asset)) findingsOf.set(f.asset, []); findingsOf.get(f.asset).push(f); }

function keyOf(a) { return a.key || (a.certificate && a.certificate.public_key) || null; }
function algOf(k) {
  if (!k) return "";
  if (k.curve) return k.algorithm + " " + k.curve;
  if (k.bits && !/^(Ed25519|Ed448|X25519|X448|ML-|SLH-)/.test(k.algorithm)) return k.algorithm + " " + k.bits;
  return k.algorithm;
}
function nameOf(a) {
  if (a.certificate) return a.certificate.subject_cn || a.certificate.subject;
  if (a.secret) return a.secret.rule + " " + a.secret.redacted;
  if (a.keystore) return a.keystore.format || "keystore";
  if (a.kind === "endpoint" && a.occurrences.length) return a.occurrences[0].path;
  return algOf(keyOf(a)) || a.kind;
}
function ownerOf(a) { return a.owners && a.owners.length ? a.owners[0].name : "unowned"; }
function place(o) { return o.path + (o.line ? ":" + o.line : ""); }
function counts(list, f) {
  const m = new Map(); for (const x of list) { const k = f(x); m.set(k, (m.get(k) || 0) + 1); }
  return [...m.entries()].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]));
}
function link(id, text) { const a = el("a", text); a.href = "#asset=" + encodeURIComponent(id); return a; }

document.getElementById("scan-line").textContent = show(
  "Scan " + R.scan.id + " of " + R.scan.roots.join(", ") + " on " + R.scan.host + ", started " + R.scan.started_at +
  "; judged at " + D.now + "; policy: " + (R.scan.policy || "built-in") + "; trustmap " + D.version);

// Posture.
const open = R.findings.filter(f => !f.waiver && !f.baselined);
const certs = R.assets.filter(a => a.certificate);
const expiry = a => Date.parse(a.certificate.not_after);
const expired = certs.filter(a => expiry(a) < NOW).length;
const soon = certs.filter(a => expiry(a) >= NOW && expiry(a) < NOW + 30 * DAY).length;
const stats = [["assets", R.assets.length], ["certificates", certs.length], ["expired", expired], ["expiring in 30 days", soon],
  ["open findings", open.length], ["critical", open.filter(f => f.severity === "critical").length],
  ["high", open.filter(f => f.severity === "high").length], ["waived", R.findings.filter(f => f.waiver).length],
  ["baselined", R.findings.filter(f => !f.waiver && f.baselined).length], ["errors", R.errors.length]];
const statsEl = document.getElementById("stats");
for (const [label, n] of stats) { const d = el("div", null, "stat"); d.appendChild(el("b", n)); d.appendChild(el("span", label, "muted")); d.dataset.stat = label; statsEl.appendChild(d); }

// Open findings by severity, rule and owner.
const sc = new Map(counts(open, f => f.severity));
tally("#by-severity", SEV.filter(s => sc.has(s)).map(s => [s, sc.get(s)]), s => el("span", s, "sev sev-" + s));
tally("#by-rule", counts(open, f => f.rule), r => el("code", r));
tally("#by-owner", counts(open, f => { const a = byId.get(f.asset); return a ? ownerOf(a) : "unowned"; }), o => o);

// Expiry timeline: one mark per certificate, stacked in its column (expired, a month each for
// 24 months, later); red expired, orange within 30 days.
(function timeline() {
  const start = new Date(NOW), cols = [{ label: "expired", certs: [] }];
  for (let i = 0; i < 24; i++) cols.push({ label: new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i, 1)).toISOString().slice(0, 7), certs: [] });
  cols.push({ label: "later", certs: [] });
  for (const a of [...certs].sort((x, y) => expiry(x) - expiry(y) || cmp(x.id, y.id))) {
    const t = new Date(expiry(a));
    if (t.getTime() < NOW) { cols[0].certs.push(a); continue; }
    const m = (t.getUTCFullYear() - start.getUTCFullYear()) * 12 + t.getUTCMonth() - start.getUTCMonth();
    cols[m < 24 ? 1 + m : 25].certs.push(a);
  }
  const fill = t => t < NOW ? "#c0392b" : t < NOW + 30 * DAY ? "#d68910" : "#2e86c1";
  const svg = stackChart(document.getElementById("timeline-chart"),
    cols.map(c => ({ label: c.label, items: c.certs.map(a => ({ id: a.id, fill: fill(expiry(a)), title: nameOf(a) + ", expires " + a.certificate.not_after })) })),
    i => i === 0 || i === cols.length - 1 || (i % 3 === 0 && i < cols.length - 2),
    id => { location.hash = "asset=" + encodeURIComponent(id); },
    [["#c0392b", "expired"], ["#d68910", "expires within 30 days"], ["#2e86c1", "later"]]);
  svg.setAttribute("aria-label", "certificates by expiry month");
})();

// Algorithms and key sizes (certificates by their public key, and keys).
tally("#algorithms", counts(R.assets.filter(keyOf), a => algOf(keyOf(a))), a => a);

// Post-quantum readiness (classified by trustmap: D.pq).
tally("#pqc", ["quantum-vulnerable", "post-quantum", "unknown"].map(c => [c, Object.values(D.pq).filter(v => v === c).length]).filter(e => e[1]),
  c => c === "quantum-vulnerable" ? "quantum-vulnerable (RSA, EC, DSA, DH, EdDSA)" : c === "unknown" ? "unknown (encrypted or unrecognised)" : c);

// Errors.
{ const body = document.querySelector("#errors tbody"); for (const e of R.errors) row(body, [el("code", e.path), e.error]); if (!R.errors.length) row(body, [el("span", "none", "muted")]); }

// Inventory table: filter, kind, sort; at most LIMIT rows until "Show all".
const LIMIT = 500;
let limit = LIMIT;
const rows = R.assets.map(a => ({
  id: a.id, kind: a.kind, name: nameOf(a),
  place: a.occurrences.length ? place(a.occurrences[0]) + (a.occurrences.length > 1 ? " (+" + (a.occurrences.length - 1) + ")" : "") : "",
  owner: ownerOf(a), algorithm: algOf(keyOf(a)), expires: a.certificate ? a.certificate.not_after : "",
  findings: (findingsOf.get(a.id) || []).filter(f => !f.waiver && !f.baselined).length,
  haystack: [a.id, a.kind, nameOf(a), algOf(keyOf(a)), ...a.occurrences.map(place), ...(a.owners || []).map(o => o.name),
    ...(a.certificate ? [a.certificate.subject, a.certificate.issuer, ...a.certificate.sans] : [])].join("\n").toLowerCase(),
}));
const kindSel = document.getElementById("kind");
for (const k of [...new Set(rows.map(r => r.kind))].sort()) kindSel.appendChild(el("option", k)).value = k;
let sortKey = "findings", sortDir = -1;
function draw() {
  const q = document.getElementById("filter").value.toLowerCase(), kind = kindSel.value;
  const tbody = document.querySelector("#assets tbody"); tbody.textContent = "";
  const shown = rows.filter(r => (!kind || r.kind === kind) && (!q || r.haystack.includes(q)))
    .sort((x, y) => cmp(x[sortKey], y[sortKey]) * sortDir || cmp(x.id, y.id));
  for (const r of shown.slice(0, limit)) {
    const tr = row(tbody, [el("code", r.id), r.kind, r.name, r.place, r.owner, r.algorithm, r.expires, r.findings]);
    tr.className = "asset"; tr.dataset.id = r.id; tr.children[0].className = tr.children[1].className = tr.children[6].className = "nowrap";
    tr.addEventListener("click", () => { location.hash = "asset=" + encodeURIComponent(r.id); });
  }
  document.getElementById("shown").textContent = shown.length + " of " + rows.length + " assets" + (shown.length > limit ? ", first " + limit + " shown" : "");
  document.getElementById("more").hidden = shown.length <= limit;
  for (const th of document.querySelectorAll("#assets th")) th.setAttribute("aria-sort", th.dataset.key === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none");
}
for (const th of document.querySelectorAll("#assets th")) th.addEventListener("click", () => { if (sortKey === th.dataset.key) sortDir = -sortDir; else { sortKey = th.dataset.key; sortDir = 1; } draw(); });
document.getElementById("filter").addEventListener("input", draw);
kindSel.addEventListener("change", draw);
document.getElementById("more").addEventListener("click", () => { limit = Infinity; draw(); });
draw();

// Detail view per asset (#asset=ID): facts, places, relations, findings.
function detail() {
  const m = /^#asset=(.+)$/.exec(location.hash), box = document.getElementById("detail");
  let a = null; try { a = m && byId.get(decodeURIComponent(m[1])); } catch (e) { a = null; }
  if (!a) { box.hidden = true; return; }
  box.textContent = ""; box.hidden = false;
  const close = el("button", "Close", "close");
  close.addEventListener("click", () => { history.pushState("", document.title, location.pathname + location.search); detail(); });
  box.appendChild(close);
  box.appendChild(el("h2", nameOf(a)));
  box.appendChild(el("p", a.kind + " " + a.id + ", " + a.fingerprint, "muted"));
  const facts = el("table"), fb = el("tbody"); facts.appendChild(fb); facts.id = "detail-facts";
  const c = a.certificate, k = keyOf(a);
  if (c) for (const [n, v] of [["subject", c.subject], ["issuer", c.issuer], ["serial", c.serial], ["not before", c.not_before], ["not after", c.not_after],
    ["SANs", c.sans.join(", ")], ["signature", c.signature_algorithm], ["CA", c.is_ca], ["self-signed", c.self_signed]]) row(fb, [n, v]);
  if (k) for (const [n, v] of [["algorithm", k.algorithm], ["bits", k.bits], ["curve", k.curve], ["format", k.format], ["encrypted", k.encrypted]]) if (v !== null && v !== undefined) row(fb, [n, v]);
  if (a.secret) for (const [n, v] of [["rule", a.secret.rule], ["provider", a.secret.provider], ["shown as", a.secret.redacted]]) row(fb, [n, v]);
  if (a.keystore) for (const [n, v] of [["format", a.keystore.format], ["entries", a.keystore.entries], ["locked", a.keystore.locked], ["opened with", a.keystore.opened_with]]) if (v !== null && v !== undefined) row(fb, [n, v]);
  row(fb, ["owners", (a.owners || []).map(o => o.name + " (" + o.source + ")").join(", ") || "unowned"]);
  box.appendChild(facts);
  box.appendChild(el("h3", "Places (" + a.occurrences.length + ")"));
  const pl = el("table"), pb = el("tbody"); pl.appendChild(pb); pl.id = "detail-places";
  for (const o of a.occurrences) row(pb, [el("code", place(o)), o.container || ""]);
  box.appendChild(pl);
  const rels = R.relations.filter(r => r.from === a.id || r.to === a.id);
  box.appendChild(el("h3", "Relations (" + rels.length + ")"));
  const rl = el("table"), rb = el("tbody"); rl.appendChild(rb); rl.id = "detail-relations";
  for (const r of rels) {
    const otherId = r.from === a.id ? r.to : r.from, other = byId.get(otherId);
    row(rb, [r.from === a.id ? r.type + " \u2192" : "\u2190 " + r.type, other ? link(otherId, nameOf(other) + " (" + otherId + ")") : otherId]);
  }
  box.appendChild(rl);
  const fs = findingsOf.get(a.id) || [];
  box.appendChild(el("h3", "Findings (" + fs.length + ")"));
  const ft = el("table"), fbd = el("tbody"); ft.appendChild(fbd); ft.id = "detail-findings";
  for (const f of fs) row(fbd, [el("span", f.severity, "sev sev-" + f.severity), el("code", f.rule),
    f.message + (f.waiver ? " (waived by " + f.waiver.by + " until " + f.waiver.until + ": " + f.waiver.reason + ")" : "") + (f.baselined ? " (baselined)" : "")]);
  box.appendChild(ft);
}
window.addEventListener("hashchange", detail);
detail();
