// Opens a static HTML page (the audit evidence) in headless Chromium and prints, as JSON, the
// requests it tried (all aborted), dialogs, script errors, how many <script> and <img>
// elements it has, and the textContent of the elements each SELECTOR matches.
//
//   node check-page.js PAGE.html [SELECTOR...]
//
// A missing browser is an error (exit 1). CHROMIUM overrides the path (default /usr/bin/chromium).
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

(async () => {
  const [file, ...selectors] = process.argv.slice(2);
  const self = "file://" + path.resolve(file);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
  });
  const context = await browser.newContext();
  const out = { requests: [], dialogs: [], errors: [], text: {} };
  await context.route("**/*", route => {
    if (route.request().url() === self) return route.continue();
    out.requests.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", e => out.errors.push(String(e)));
  page.on("dialog", d => { out.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.goto(self, { waitUntil: "load" });
  out.title = await page.title();
  out.scripts = await page.$$eval("script", s => s.length);
  out.images = await page.$$eval("img", s => s.length);
  out.pwned = await page.evaluate(() => window.pwned === undefined ? null : String(window.pwned));
  for (const sel of selectors) out.text[sel] = await page.$$eval(sel, els => els.map(e => e.textContent));
  await browser.close();
  console.log(JSON.stringify(out));
})().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
