// Screenshots of a running ioc for the README: the wall screen at
// 1920×1080 and the rankings page at 1280×800 (and each at the other size).
//
//   ioc demo &   node tests/browser/screenshots.mjs http://127.0.0.1:8080 docs/img
import { chromium } from "playwright-core";
import { join } from "node:path";

const [base = "http://127.0.0.1:8080", out = "docs/img"] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.IOC_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const pages = [
  ["wall", "/?window=today", ".tile[data-unit]"],
  ["rankings", "/rankings?level=district&key=online_share&window=month&scope=tree", "#rows tr[data-unit]"],
];
for (const [name, path, ready] of pages) {
  for (const [width, height] of [[1920, 1080], [1280, 800]]) {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(base + path);
    await page.waitForSelector(ready);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: join(out, `${name}-${width}x${height}.png`) });
    await page.close();
  }
}
await browser.close();
