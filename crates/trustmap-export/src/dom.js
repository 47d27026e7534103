"use strict";
// Helpers shared by trustmap's HTML report (report.js, inlined after this file) and the web
// UI (trustmap-server's app.js, served as /ui/dom.js). Text from scanned files is only ever
// set with textContent (el(), row(), show()), never parsed as markup.

// Control characters and bidi overrides (ANSI escapes, trojan-source tricks) made visible.
function show(v) {
  if (v === undefined || v === null) return "";
  return String(v).replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, c => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? "\\x" + n.toString(16).padStart(2, "0") : "\\u{" + n.toString(16) + "}";
  });
}
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = show(text); if (cls) e.className = cls; return e; }
function row(tbody, cells) {
  const tr = el("tr");
  for (const c of cells) { const td = el("td"); if (c instanceof Node) td.appendChild(c); else td.textContent = show(c); tr.appendChild(td); }
  tbody.appendChild(tr); return tr;
}
function cmp(a, b) { return typeof a === "number" && typeof b === "number" ? a - b : (a < b ? -1 : a > b ? 1 : 0); }
function bar(n, max) {
  const s = el("span"), b = el("span", null, "bar");
  b.style.width = Math.max(2, Math.round(120 * n / Math.max(1, max))) + "px";
  s.appendChild(b); s.appendChild(document.createTextNode(" " + n)); return s;
}
// One row per [key, count] in `sel`'s tbody: the label, a bar; data-key and data-count for tests.
function tally(sel, entries, label) {
  const body = document.querySelector(sel + " tbody"), max = entries.length ? Math.max(...entries.map(e => e[1])) : 1;
  body.textContent = "";
  for (const [k, n] of entries) { const tr = row(body, [label(k), bar(n, max)]); tr.dataset.key = k; tr.dataset.count = n; }
  if (!entries.length) row(body, [el("span", "none", "muted")]);
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs) { const e = document.createElementNS(SVG_NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; }
// A stacked column chart in `box`: cols is [{label, items: [{id, fill, title}]}], one mark
// (rect.mark, data-id, data-column) per item; labelled(i) says which column labels to draw;
// open(id) is called when a mark is clicked. `legend` is [[colour, text], ...].
function stackChart(box, cols, labelled, open, legend) {
  const cw = 34, h = 110, top = 14, w = cols.length * cw;
  const max = Math.max(1, ...cols.map(c => c.items.length)), mh = h / max;
  const svg = svgEl("svg", { viewBox: "0 0 " + w + " " + (top + h + 18), width: "100%", role: "img" });
  const text = (x, y, s) => { const t = svgEl("text", { x: x, y: y, "font-size": "9", "text-anchor": "middle" }); t.textContent = show(s); svg.appendChild(t); };
  cols.forEach((c, i) => {
    c.items.forEach((it, j) => {
      const r = svgEl("rect", { x: i * cw + 4, y: top + h - (j + 1) * mh + (mh > 3 ? 0.5 : 0), width: cw - 8,
        height: Math.max(0.5, mh > 3 ? mh - 1 : mh), fill: it.fill, class: "mark" });
      r.dataset.id = it.id; r.dataset.column = c.label; r.style.cursor = "pointer";
      r.addEventListener("click", () => open(it.id));
      const tt = svgEl("title", {}); tt.textContent = show(it.title); r.appendChild(tt);
      svg.appendChild(r);
    });
    if (c.items.length) text(i * cw + cw / 2, top + h - c.items.length * mh - 3, c.items.length);
    if (labelled(i)) text(i * cw + cw / 2, top + h + 12, c.label);
  });
  svg.appendChild(svgEl("line", { x1: 0, x2: w, y1: top + h + 0.5, y2: top + h + 0.5, stroke: "#d9dde5" }));
  box.textContent = "";
  box.appendChild(svg);
  const lg = el("div", null, "legend");
  for (const [c, l] of legend) { const s = el("span"); const i = el("i"); i.style.background = c; s.appendChild(i); s.appendChild(document.createTextNode(l)); lg.appendChild(s); }
  box.appendChild(lg);
  return svg;
}
