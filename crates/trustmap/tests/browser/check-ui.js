// Works trustmap's web UI (`trustmap serve`) in headless Chromium (Debian's, driven by
// playwright-core) like its users would and prints what it saw as JSON, for
// crates/trustmap/tests/it/ui.rs to assert on.
//
//   node check-ui.js PLAN.json
//
// PLAN: { base, reader, admin, scanner, evil: ASSET_ID, waive: {asset, rule}, owner, kind,
//         pageSize, screenshots: DIR or null }
//
// Every request that does not go to `base` is logged and aborted: the UI must make none. A
// missing browser is an error (exit 1), never a skip. CHROMIUM overrides the browser path.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = { errors: [], outside: [], dialogs: [], csp: [], requests: 0 };

async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await context.route("**/*", route => {
    const url = route.request().url();
    out.requests++;
    if (url.startsWith(plan.base + "/")) return route.continue();
    out.outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", e => out.errors.push(String(e)));
  page.on("console", m => { if (m.type() === "error" && !/status of 40[13]/.test(m.text())) out.errors.push(m.text()); });
  page.on("dialog", d => { out.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.addInitScript(() => document.addEventListener("securitypolicyviolation", e => { (window.__csp = window.__csp || []).push(e.violatedDirective + " " + e.blockedURI); }));
  return page;
}

// app.js sets main's data-page to the view's name once it is drawn; marking it stale first
// makes the wait see the next drawing, not the one already there.
const stale = page => page.evaluate(() => { document.getElementById("page").dataset.page = "stale"; });
async function drawn(page, name) { await page.waitForSelector(`#page[data-page="${name}"]`); }
async function go(page, hash, name) {
  await stale(page);
  await page.evaluate(h => { location.hash = h; }, hash);
  await drawn(page, name);
}
async function clickAndDraw(page, sel, name) {
  await stale(page);
  await page.click(sel);
  await drawn(page, name);
}

async function signIn(page, token) {
  await page.goto(plan.base + "/", { waitUntil: "load" });
  await page.waitForSelector("#signin:not([hidden])");
  await page.fill("#token", token);
  await page.click("#signin-form button");
  await drawn(page, "overview");
}

// The viewport as a PNG in plan.screenshots (the README's), scrolled so `at` is at `block`.
async function shot(page, name, at, block) {
  if (!plan.screenshots) return;
  if (at) await page.$eval(at, (e, b) => e.scrollIntoView({ block: b }), block || "start");
  await page.screenshot({ path: path.join(plan.screenshots, name + ".png") });
}

const tallies = (page, sel) => page.$$eval(sel + " tbody tr[data-key]", trs => Object.fromEntries(trs.map(tr => [tr.dataset.key, Number(tr.dataset.count)])));
const texts = (page, sel) => page.$$eval(sel, els => els.map(e => e.textContent));
const error = page => page.$eval("#error", e => e.hidden ? null : e.textContent);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions"],
  });

  // A scanner token cannot sign in.
  {
    const page = await newPage(browser);
    await page.goto(plan.base + "/", { waitUntil: "load" });
    await page.fill("#token", plan.scanner);
    await page.click("#signin-form button");
    await page.waitForFunction(() => document.getElementById("signin-error").textContent !== "");
    out.scannerSignIn = await page.textContent("#signin-error");
    out.scannerNav = await page.$eval("#nav", n => n.hidden);
    await page.context().close();
  }

  // ---- the reader ----
  const page = await newPage(browser);
  await signIn(page, plan.reader);
  out.who = await page.textContent("#who");
  out.cookies = (await page.context().cookies()).length;
  out.overview = {
    stats: await page.$$eval("#stats .stat", els => Object.fromEntries(els.map(e => [e.dataset.stat, Number(e.querySelector("b").textContent)]))),
    bySeverity: await tallies(page, "#by-severity"),
    pq: await tallies(page, "#pqc"),
    byKind: await tallies(page, "#by-kind"),
    marks: await page.$$eval("#timeline-chart rect.mark", rs => rs.map(r => r.dataset.id)),
    trend: await page.$$eval("#trend circle.point", cs => cs.map(c => [c.dataset.scan, c.dataset.series, Number(c.dataset.value)])),
    error: await error(page),
  };
  await shot(page, "ui-overview");

  // Inventory: a kind filter, small pages, Next until the last page, then Previous once.
  await go(page, "#/inventory?kind=" + plan.kind + "&limit=" + plan.pageSize, "inventory");
  out.inventory = { pages: [], shown: await page.textContent("#shown") };
  for (let i = 0; i < 50; i++) {
    out.inventory.pages.push(await page.$$eval("#assets tbody tr", trs => trs.map(tr => tr.dataset.id)));
    if (await page.$eval("#next", b => b.disabled)) break;
    await clickAndDraw(page, "#next", "inventory");
  }
  await clickAndDraw(page, "#prev", "inventory");
  out.inventory.back = await page.$$eval("#assets tbody tr", trs => trs.map(tr => tr.dataset.id));
  // Sorting the page by name, and the search box (a path that holds the text).
  await page.click("#assets th[data-key=label]");
  out.inventory.sortState = await page.getAttribute("#assets th[data-key=label]", "aria-sort");
  out.inventory.sortedLabels = await page.$$eval("#assets tbody tr", trs => trs.map(tr => tr.children[2].textContent));
  await go(page, "#/inventory", "inventory");
  await page.fill("#search", plan.search);
  await clickAndDraw(page, "#inventory-filters button[type=submit]", "inventory");
  out.inventory.searchHash = await page.evaluate(() => location.hash);
  out.inventory.searched = await page.$$eval("#assets tbody tr", trs => trs.map(tr => tr.dataset.id));
  out.inventory.error = await error(page);

  // The asset whose subject is hostile, opened from the inventory.
  await go(page, "#/inventory?kind=certificate&limit=1000", "inventory");
  await shot(page, "ui-inventory");
  await clickAndDraw(page, `#assets tbody tr[data-id="${plan.evil}"] a`, "asset");
  out.evil = {
    hash: await page.evaluate(() => location.hash),
    title: await page.textContent("#asset-title"),
    facts: await page.$$eval("#asset-facts tbody tr", trs => Object.fromEntries(trs.map(tr => [tr.children[0].textContent, tr.children[1].textContent]))),
    pwned: await page.evaluate(() => window.pwned === undefined ? null : String(window.pwned)),
    images: await page.$$eval("img", is => is.length),
    scripts: await page.$$eval("script", ss => ss.map(s => s.getAttribute("src"))),
  };

  // The reader on the asset to be waived: everything shown, no edit controls.
  await go(page, "#/asset/" + encodeURIComponent(plan.waive.asset), "asset");
  out.readerAsset = {
    ownerForm: await page.$$eval("#owner-form", f => f.length),
    waiveButtons: await page.$$eval(".admin", f => f.length),
    waivers: await page.$$eval("#waivers", f => f.length),
    places: await page.$$eval("#asset-places tbody tr", trs => trs.map(tr => [tr.children[0].textContent, tr.children[1].textContent])),
    relations: await page.$$eval("#asset-relations tbody tr", trs => trs.map(tr => tr.textContent)),
    graphNodes: await page.$$eval("#relation-graph g.link", gs => gs.map(g => g.dataset.id)),
    impact: await page.textContent("#impact-summary"),
    findings: await page.$$eval("#asset-findings tbody tr", trs => trs.map(tr => tr.dataset.rule)),
    history: await page.$$eval("#asset-history tbody tr", trs => trs.map(tr => tr.children[0].textContent)),
    error: await error(page),
  };
  out.csp.push(...await page.evaluate(() => window.__csp || []));
  await page.context().close();

  // ---- the admin: set an owner, grant a waiver, then the audit log ----
  const admin = await newPage(browser);
  await signIn(admin, plan.admin);
  await go(admin, "#/asset/" + encodeURIComponent(plan.waive.asset), "asset");
  await shot(admin, "ui-asset", "#owners");
  await admin.fill("#owner-form input[name=owner]", plan.owner);
  await clickAndDraw(admin, "#owner-form button", "asset");
  out.adminOwners = await admin.$$eval("#asset-owners tbody tr", trs => trs.map(tr => [...tr.children].map(td => td.textContent)));
  await admin.click(`#asset-findings tbody tr[data-rule="${plan.waive.rule}"] button.waive`);
  await admin.fill("#waiver-form input[name=reason]", plan.waive.reason);
  await admin.fill("#waiver-form input[name=until]", plan.waive.until);
  await clickAndDraw(admin, "#waiver-form button", "asset");
  out.adminWaivers = await admin.$$eval("#asset-waivers tbody tr", trs => trs.map(tr => [...tr.children].map(td => td.textContent)));
  out.adminFindingWaiver = await admin.$eval(`#asset-findings tbody tr[data-rule="${plan.waive.rule}"]`, tr => tr.children[3].textContent);
  out.adminError = await error(admin);

  await go(admin, "#/audit", "audit");
  await shot(admin, "ui-audit");
  out.audit = {
    intact: await admin.$eval("#audit-verdict", p => p.dataset.intact),
    verdict: await admin.textContent("#audit-verdict"),
    events: await admin.$$eval("#audit-table tbody tr", trs => trs.map(tr => [tr.dataset.kind, tr.children[3].textContent, tr.children[4].textContent])),
  };

  await go(admin, "#/findings", "findings");
  out.findings = {
    byOwner: await tallies(admin, "#by-owner"),
    byRule: await tallies(admin, "#by-rule"),
    count: await admin.textContent("#findings-count"),
  };
  await shot(admin, "ui-findings");
  await clickAndDraw(admin, `#by-rule tbody tr[data-key="${plan.rule}"] a`, "findings");
  out.findings.ruleHash = await admin.evaluate(() => location.hash);
  out.findings.ruleRows = await admin.$$eval("#findings-table tbody tr", trs => trs.map(tr => tr.dataset.rule));

  await go(admin, "#/scans", "scans");
  out.scans = await admin.$$eval("#scans-table tbody tr", trs => trs.map(tr => tr.dataset.id));
  await admin.selectOption("#diff-form select[name=from]", plan.diff.from);
  await admin.selectOption("#diff-form select[name=to]", plan.diff.to);
  await clickAndDraw(admin, "#diff-form button", "diff");
  await shot(admin, "ui-diff");
  out.diff = {
    counts: await admin.$$eval("#diff-counts .stat", els => Object.fromEntries(els.map(e => [e.dataset.stat, Number(e.querySelector("b").textContent)]))),
    new: await admin.$$eval("#diff-new-table tbody tr a", as => as.map(a => a.dataset.id)),
    gone: await admin.$$eval("#diff-gone-table tbody tr a", as => as.map(a => a.dataset.id)),
    error: await error(admin),
  };
  await admin.click("#signout");
  out.signedOut = { token: await admin.evaluate(() => sessionStorage.getItem("trustmap.token")), signin: await admin.$eval("#signin", s => !s.hidden) };
  out.csp.push(...await admin.evaluate(() => window.__csp || []));
  await browser.close();
  console.log(JSON.stringify(out));
})().catch(e => { console.error(String(e && e.stack || e)); console.error(JSON.stringify(out)); process.exit(1); });
