// Opens a trustmap HTML report in headless Chromium and prints what is on the page as JSON,
// for crates/trustmap/tests/it/html.rs to assert on. Usage: node check-report.js REPORT.html
"use strict";
const { chromium } = require("playwright-core");

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  const errors = [];
  const requests = [];
  page.on("pageerror", e => errors.push(String(e)));
  page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
  page.on("request", r => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url()); });
  await page.goto("file://" + require("path").resolve(process.argv[2]));
  const text = sel => page.$eval(sel, e => e.textContent);
  const out = {};
  out.title = await page.title();
  out.stats = await page.$$eval("#stats .stat", els => Object.fromEntries(els.map(e => [e.dataset.stat, Number(e.querySelector("b").textContent)])));
  out.severities = await page.$$eval("#by-severity tr", trs => trs.map(tr => tr.textContent));
  out.timelineBars = await page.$$eval("#timeline-chart rect", rs => rs.map(r => [r.dataset.month, Number(r.dataset.count)]));
  out.rows = await page.$$eval("#assets tbody tr", trs => trs.map(tr => tr.dataset.id));
  out.injected = await page.$$eval("body script", ss => ss.length);
  out.names = await page.$$eval("#assets tbody tr td:nth-child(3)", tds => tds.map(td => td.textContent));
  await page.fill("#filter", "evil");
  out.filtered = await page.$$eval("#assets tbody tr", trs => trs.map(tr => tr.dataset.id));
  out.shown = await text("#shown");
  await page.fill("#filter", "");
  await page.click("#assets th[data-key=name]");
  out.sortedByName = await page.$$eval("#assets tbody tr td:nth-child(3)", tds => tds.map(td => td.textContent));
  out.sortState = await page.$eval("#assets th[data-key=name]", th => th.getAttribute("aria-sort"));
  await page.click("#assets tbody tr.asset");
  await page.waitForSelector("#detail:not([hidden])");
  out.detailTitle = await text("#detail h2");
  out.detailPlaces = await page.$$eval("#detail-places tr", trs => trs.length);
  out.detailFindings = await page.$$eval("#detail-findings tr", trs => trs.length);
  out.errors = errors;
  out.requests = requests;
  await page.screenshot({ path: process.argv[2] + ".png", fullPage: true });
  await browser.close();
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
