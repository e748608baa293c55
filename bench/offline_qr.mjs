// Time to the first QR for a returning passenger offline (bench/lighthouse.sh runs it).
//
// A phone (360x640, DPR 2, Debian's Chromium through puppeteer-core, the one Lighthouse
// pinned in tests/browser-tools brings) opens /my once online with one declaration kept
// on the device (as the result page hands it over) and waits until the service worker
// holds the shell. Then the server goes away (the caller kills it when this prints
// "READY" and answers on stdin) and /my is opened RUNS times without any network: each
// time from navigation start to the QR's <svg> in the page (app.js's data-rendered-ms,
// the page's own clock). With the server gone, everything comes from the service worker.
//
//   node bench/offline_qr.mjs <base-url> <declaration-json-file> [runs]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import readline from "node:readline";

const require = createRequire(new URL("../target/node/node_modules/lighthouse/package.json", import.meta.url));
const puppeteer = require("puppeteer-core");

const [base, declFile, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 10);
const decl = JSON.parse(readFileSync(declFile, "utf8"));

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  await page.emulate({
    viewport: { width: 360, height: 640, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    userAgent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
  });
  await page.goto(`${base}/my?lang=en`, { waitUntil: "load" });
  await page.evaluate((d) => {
    localStorage.setItem("egate.declarations.v1", JSON.stringify([d]));
  }, decl);
  // Until the service worker controls the page with /my in its cache.
  for (let i = 0; ; i++) {
    await page.reload({ waitUntil: "load" });
    const ready = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      if (!reg || !reg.active || !navigator.serviceWorker.controller) return false;
      for (const k of await caches.keys()) {
        if (await (await caches.open(k)).match("/my")) return true;
      }
      return false;
    });
    if (ready) break;
    if (i > 100) throw new Error("the service worker never held /my");
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log("READY");
  // The caller stops the server, then writes a line.
  await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once("line", resolve));

  const times = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(`${base}/my`, { waitUntil: "load" });
    await page.waitForSelector("#my-list[data-state=ready] .qr svg", { timeout: 30000 });
    const ms = await page.$eval("#my-list", (e) => Number(e.getAttribute("data-rendered-ms")));
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(JSON.stringify({ runs, median_ms: median, min_ms: times[0], max_ms: times[times.length - 1] }));
} finally {
  await browser.close();
}
