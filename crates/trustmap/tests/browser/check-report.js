// Opens a trustmap HTML report in headless Chromium (Debian's, driven by playwright-core),
// works the page like a reader would and prints what it saw as JSON, for
// crates/trustmap/tests/it/html.rs to assert on.
//
//   node check-report.js REPORT.html [--filter TEXT] [--detail ASSET_ID] [--screenshot PNG]
//
// --screenshot saves the top of the page (1280x900) as it opens.
//
// Every request other than the report file itself is logged and aborted: the page must make
// none. A missing browser is an error (exit 1), never a skip. CHROMIUM overrides the browser
// path (default /usr/bin/chromium).
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

const args = process.argv.slice(2);
const opt = name => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const file = path.resolve(args[0]);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const out = { errors: [], requests: [], dialogs: [], cspViolations: [] };
  const self = "file://" + file;
  await context.route("**/*", route => {
    const url = route.request().url();
    if (url === self) return route.continue();
    out.requests.push(url);
    return route.abort();
  });
  context.on("request", r => { if (r.url() !== self && !out.requests.includes(r.url())) out.requests.push(r.url()); });
  const page = await context.newPage();
  page.on("pageerror", e => out.errors.push(String(e)));
  page.on("console", m => { if (m.type() === "error") out.errors.push(m.text()); });
  page.on("dialog", d => { out.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.addInitScript(() => document.addEventListener("securitypolicyviolation", e => { (window.__csp = window.__csp || []).push(e.violatedDirective + " " + e.blockedURI); }));
  await page.goto(self, { waitUntil: "load" });

  // The top of the page as it opens (docs/report.png is made this way from examples/estate).
  if (opt("--screenshot")) await page.screenshot({ path: opt("--screenshot") });

  const ids = sel => page.$$eval(sel, trs => trs.map(tr => tr.dataset.id));
  const tallies = sel => page.$$eval(sel + " tbody tr[data-key]", trs => Object.fromEntries(trs.map(tr => [tr.dataset.key, Number(tr.dataset.count)])));
  out.title = await page.title();
  out.scanLine = await page.textContent("#scan-line");
  out.stats = await page.$$eval("#stats .stat", els => Object.fromEntries(els.map(e => [e.dataset.stat, Number(e.querySelector("b").textContent)])));
  out.bySeverity = await tallies("#by-severity");
  out.byRule = await tallies("#by-rule");
  out.byOwner = await tallies("#by-owner");
  out.algorithms = await tallies("#algorithms");
  out.pqc = await tallies("#pqc");
  out.errorRows = await page.$$eval("#errors tbody tr", trs => trs.map(tr => tr.textContent));
  out.marks = await page.$$eval("#timeline-chart svg rect.mark", rs => rs.map(r => ({ id: r.dataset.id, column: r.dataset.column, fill: r.getAttribute("fill") })));
  out.rows = await ids("#assets tbody tr");
  out.rowText = await page.$$eval("#assets tbody tr", trs => Object.fromEntries(trs.map(tr => [tr.dataset.id, [...tr.children].map(td => td.textContent)])));
  out.scripts = await page.$$eval("script", ss => ss.length);
  out.images = await page.$$eval("img", is => is.length);
  out.pwned = await page.evaluate(() => window.pwned === undefined ? null : String(window.pwned));

  const filter = opt("--filter");
  if (filter !== undefined) {
    await page.fill("#filter", filter);
    out.filtered = await ids("#assets tbody tr");
    out.shown = await page.textContent("#shown");
    await page.fill("#filter", "");
  }
  out.unfiltered = (await ids("#assets tbody tr")).length;
  await page.click("#assets th[data-key=name]");
  out.sortedByName = await ids("#assets tbody tr");
  out.sortState = await page.getAttribute("#assets th[data-key=name]", "aria-sort");
  await page.click("#assets th[data-key=name]");
  out.sortedByNameDesc = await ids("#assets tbody tr");
  out.sortStateDesc = await page.getAttribute("#assets th[data-key=name]", "aria-sort");

  const detail = opt("--detail");
  if (detail !== undefined) {
    await page.click(`#assets tbody tr[data-id="${detail}"]`);
    await page.waitForSelector("#detail:not([hidden])");
    out.detail = {
      hash: await page.evaluate(() => location.hash),
      title: await page.textContent("#detail h2"),
      facts: await page.$$eval("#detail-facts tr", trs => Object.fromEntries(trs.map(tr => [tr.children[0].textContent, tr.children[1].textContent]))),
      places: await page.$$eval("#detail-places tr", trs => trs.map(tr => tr.children[0].textContent)),
      relations: await page.$$eval("#detail-relations tr", trs => trs.map(tr => tr.textContent)),
      findings: await page.$$eval("#detail-findings tr", trs => trs.map(tr => tr.children[1].textContent)),
    };
    await page.click("#detail button.close");
    out.detailClosed = await page.$eval("#detail", d => d.hidden);
  }
  out.cspViolations = await page.evaluate(() => window.__csp || []);
  out.images = Math.max(out.images, await page.$$eval("img", is => is.length));
  await browser.close();
  console.log(JSON.stringify(out));
})().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
