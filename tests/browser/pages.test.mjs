// Browser tests of the wall screen and the rankings page, in headless
// Chromium (Debian's package) driven by Playwright. Started by
// crates/ioc-server/tests/process/browser.rs, which passes IOC_BIN; this script
// runs its own `ioc serve` on a SQLite file so that it can restart it.
//
//   IOC_BIN=target/debug/ioc node --test tests/browser/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { unzipSync, strFromU8 } from "fflate";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = process.env.IOC_BIN ?? join(repo, "target/debug/ioc");
const browserPath = process.env.IOC_CHROMIUM ?? "/usr/bin/chromium";
const shots = process.env.IOC_SCREENSHOTS ?? join(repo, "target/screenshots");
const scratch = mkdtempSync(join(tmpdir(), "ioc-browser-"));
// Units whose names are markup and quotes: the pages must show them as
// text. A department (a compact tile), and a district (a full tile, ranked
// at its level) with a commune (in both drill-downs).
const hostileName = `Sở <img src=x onerror="window.pwned=1"> "'&amp;`;
const hostileDistrict = `Huyện <img src=x onerror=window.pwned=2> "'& <b data-pwn>đậm</b>`;
const hostileCommune = `Xã </td><img src=x onerror='window.pwned=3'><td data-pwn="1"> "'&lt;&`;
const hostileUnits = join(scratch, "hostile_units.csv");
const csvText = (name) => `"${name.replaceAll('"', '""')}"`;
writeFileSync(hostileUnits, "code,name,level,parent_code\n" +
  `70.XSS,${csvText(hostileName)},department,70\n` +
  `70.XSS.D,${csvText(hostileDistrict)},district,70\n` +
  `70.XSS.C,${csvText(hostileCommune)},commune,70.XSS.D\n`);
const env = {
  ...process.env,
  IOC__UNITS__FILES: JSON.stringify(["units/binh_phuoc.csv", "units/binh_phuoc_departments.csv", hostileUnits]),
  IOC__DATABASE__URL: `sqlite://${join(scratch, "ioc.sqlite3")}`,
  IOC__AUTH__PUBLIC_READ: "false",
  RUST_LOG: "warn",
};
const ioc = (...args) => execFileSync(bin, ["--config", join(repo, "config/base.toml"), ...args], { env }).toString().trim();

let port, server, browser, viewer, ingest;
const errors = [];
/** While the server is down on purpose, failed connections are expected. */
let outage = false;

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function startServer() {
  server = spawn(bin, ["--config", join(repo, "config/base.toml"), "serve"], {
    env: { ...env, IOC__SERVER__BIND: `127.0.0.1:${port}` },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("ioc serve never became ready");
}

async function stopServer() {
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  await exited;
}

async function api(path) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Authorization: `Bearer ${viewer}` } });
  assert.equal(response.status, 200, path);
  return response.json();
}

let serial = 0;
async function ingestDossiers(count, channel) {
  const now = new Date();
  const due = new Date(now.getTime() + 10 * 86400_000);
  const communes = ["25432", "25433", "25435", "25441", "25444"];
  const body = Array.from({ length: count }, () => {
    serial += 1;
    return {
      code: `BR-${serial}`, unit: communes[serial % communes.length], procedure: "2.000815", channel, status: 4,
      received_at: now.toISOString(), due_at: due.toISOString(), fee_required: false, updated_at: now.toISOString(),
    };
  });
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/dossiers`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ingest}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

async function newPage(width, height) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error" && !outage) errors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
  return page;
}

const kpi = (page, key) => page.locator(`.kpi[data-key="${key}"] .value`).getAttribute("data-value");

before(async () => {
  mkdirSync(shots, { recursive: true });
  port = await freePort();
  ioc("migrate");
  ioc("units", "load");
  ioc("procedures", "load");
  viewer = ioc("token", "create", "--role", "viewer");
  ingest = ioc("token", "create", "--role", "ingest", "--source", "browser", "--units", "70");
  await startServer();
  await ingestDossiers(30, "online");
  await ingestDossiers(20, "direct");
  browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) await stopServer();
  rmSync(scratch, { recursive: true, force: true });
});

test("the wall screen shows the API's numbers, follows ingest, and survives a restart", async () => {
  const page = await newPage(1920, 1080);
  await page.goto(`http://127.0.0.1:${port}/?token=${viewer}&window=today`);
  const expected = async () => String((await api("/api/v1/overview?window=today")).province.online_share);
  // The API follows a commit within a poll of the change log: wait for it.
  const settled = async (value) => {
    for (let i = 0; i < 200 && (await expected()) !== value; i++) await new Promise((r) => setTimeout(r, 50));
    return expected();
  };
  const initial = await settled(String(30 / 50));
  assert.equal(initial, String(30 / 50));
  await page.waitForFunction((v) => document.querySelector(".kpi[data-key=online_share] .value")?.dataset.value === v, initial);
  assert.equal(await kpi(page, "online_share"), initial);
  await page.waitForSelector(".tile[data-unit]");
  await page.evaluate(() => { window.notReloaded = true; });
  await page.screenshot({ path: join(shots, "wall-1920x1080.png") });

  // Live: new dossiers show without a reload.
  await ingestDossiers(25, "online");
  const after = await settled(String(55 / 75));
  assert.equal(after, String(55 / 75));
  await page.waitForFunction((v) => document.querySelector(".kpi[data-key=online_share] .value").dataset.value === v, after);

  // The server restarts: the page reconnects, resyncs, and keeps following.
  outage = true;
  await stopServer();
  await page.waitForFunction(() => document.getElementById("state").dataset.state === "reconnecting");
  await startServer();
  await page.waitForFunction(() => document.getElementById("state").dataset.state === "live", null, { timeout: 60_000 });
  outage = false;
  await ingestDossiers(25, "direct");
  const resynced = await settled(String(55 / 100));
  assert.equal(resynced, String(55 / 100));
  await page.waitForFunction((v) => document.querySelector(".kpi[data-key=online_share] .value").dataset.value === v, resynced);
  assert.equal(await page.evaluate(() => window.notReloaded), true, "no reload");

  // An overdue dossier raises an alert: the ticker shows it and its
  // district's tile counts it, as the API's rollup does.
  const dayMs = 86400_000;
  const overdue = await fetch(`http://127.0.0.1:${port}/api/v1/dossiers`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ingest}`, "Content-Type": "application/json" },
    body: JSON.stringify([{
      code: "BR-LATE", unit: "25432", procedure: "2.000815", channel: "direct", status: 4,
      received_at: new Date(Date.now() - 8 * dayMs).toISOString(), due_at: new Date(Date.now() - 3 * dayMs).toISOString(),
      fee_required: false, updated_at: new Date(Date.now() - 8 * dayMs).toISOString(),
    }]),
  });
  assert.equal(overdue.status, 200, await overdue.text());
  const raised = "#ticker li[data-kind=raise][data-rule=dossier_overdue]";
  await page.waitForSelector(raised, { timeout: 30_000 });
  assert.match(await page.locator(raised).first().textContent(), /Hồ sơ quá hạn — .*\(BR-LATE\)/);
  const rollup = await api("/api/v1/alerts/rollup");
  await page.waitForFunction((n) => document.querySelector(".tile[data-unit='697'] .badge")?.textContent === n,
    String(rollup["697"].unacknowledged));

  // Drill-down to a district's communes.
  await page.click(".tile[data-unit='697']");
  await page.waitForSelector("#drill[open] #drill-rows tr");
  await page.click("#drill-close");
  await page.close();
});

test("the rankings page sorts, and its Excel export has the API's rows", async () => {
  const page = await newPage(1280, 800);
  const path = "/api/v1/rankings?level=commune&key=received&window=today&scope=tree";
  await page.goto(`http://127.0.0.1:${port}/rankings?token=${viewer}&level=commune&key=received&window=today&scope=tree`);
  await page.waitForSelector("#rows tr[data-unit]");
  const units = () => page.locator("#rows tr").evaluateAll((rows) => rows.map((r) => r.dataset.unit));
  const values = () => page.locator("#rows tr td:nth-child(3)").evaluateAll((cells) => cells.map((c) => c.dataset.value === "" ? null : Number(c.dataset.value)));
  const ranking = await api(path);
  assert.deepEqual(await units(), ranking.items.map((i) => i.unit), "ranked order as the API");
  await page.screenshot({ path: join(shots, "rankings-1280x800.png") });

  await page.click("th[data-sort=value]");
  let shown = (await values()).filter((v) => v !== null);
  assert.deepEqual(shown, [...shown].sort((a, b) => a - b), "ascending by value");
  await page.click("th[data-sort=value]");
  shown = (await values()).filter((v) => v !== null);
  assert.deepEqual(shown, [...shown].sort((a, b) => b - a), "descending by value");
  assert.ok(shown[0] > 0);

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#xlsx")]);
  const file = await download.path();
  const sheet = readXlsx(readFileSync(file));
  assert.equal(sheet[0][1], "Mã đơn vị");
  assert.deepEqual(sheet.slice(1).map((row) => row[1]), ranking.items.map((i) => i.unit));
  assert.deepEqual(sheet.slice(1).map((row) => Number(row[4])), ranking.items.map((i) => i.numerator));

  await page.click("#rows tr[data-unit]");
  await page.waitForSelector("#drill[open] #drill-rows tr");
  await page.close();
});

test("names with markup and quotes show verbatim as text on the wall and the rankings page, drill-downs included", async () => {
  // Nothing a name holds may become an element: no <img>, and nothing
  // carrying the names' data-pwn attribute, anywhere in the document.
  const injected = (page) => page.evaluate(() => document.querySelectorAll("img, [data-pwn]").length);
  const texts = (locator) => locator.evaluateAll((cells) => cells.map((c) => c.textContent));

  const wall = await newPage(1920, 1080);
  await wall.goto(`http://127.0.0.1:${port}/?token=${viewer}&window=today`);
  await wall.waitForSelector(".tile[data-unit='70.XSS'] .name");
  assert.equal(await wall.locator(".tile[data-unit='70.XSS'] .name").textContent(), hostileName);
  assert.equal(await wall.locator(".tile[data-unit='70.XSS'] .name img").count(), 0);
  assert.equal(await wall.locator(".tile[data-unit='70.XSS'] .name").getAttribute("title"), hostileName);
  // The department's tile is compact, the district's full: both show the name.
  assert.equal(await wall.locator(".tiles.small .tile[data-unit='70.XSS']").count(), 1);
  await wall.waitForSelector(".tile[data-unit='70.XSS.D'] .big");
  assert.equal(await wall.locator(".tile[data-unit='70.XSS.D'] .name").textContent(), hostileDistrict);
  assert.equal(await wall.locator(".tile[data-unit='70.XSS.D'] .name").getAttribute("title"), hostileDistrict);
  assert.equal(await injected(wall), 0, "no element from a name on the wall");

  await wall.click(".tile[data-unit='70.XSS.D']");
  await wall.waitForSelector("#drill[open] #drill-rows tr");
  assert.equal(await wall.locator("#drill-title").textContent(), hostileDistrict);
  assert.deepEqual(await texts(wall.locator("#drill-rows tr td:first-child")), [hostileCommune]);
  assert.equal(await wall.locator("#drill-rows tr").first().locator("td").count(), 6, "one cell per column");
  assert.equal(await injected(wall), 0, "no element from a name in the wall's drill-down");
  assert.equal(await wall.evaluate(() => window.pwned), undefined);
  await wall.context().close();

  const rankings = await newPage(1280, 800);
  await rankings.goto(`http://127.0.0.1:${port}/rankings?token=${viewer}&level=district&key=received&window=today&scope=tree`);
  await rankings.waitForSelector("#rows tr[data-unit='70.XSS.D']");
  const row = rankings.locator("#rows tr[data-unit='70.XSS.D']");
  assert.equal(await row.locator("td.text").textContent(), hostileDistrict);
  assert.equal(await row.locator("td.text").getAttribute("title"), hostileDistrict);
  assert.equal(await row.locator("td").count(), 6, "one cell per column");
  assert.equal(await injected(rankings), 0, "no element from a name in the rankings table");

  await row.click();
  await rankings.waitForSelector("#drill[open] #drill-rows tr");
  assert.equal(await rankings.locator("#drill-title").textContent(), hostileDistrict);
  await rankings.waitForFunction(() => document.querySelectorAll("#drill-rows tr").length === 2);
  assert.deepEqual(await texts(rankings.locator("#drill-rows tr td:first-child")), [hostileDistrict, hostileCommune]);
  assert.equal(await injected(rankings), 0, "no element from a name in the rankings drill-down");
  await rankings.click("#drill-close");

  // The department, chosen on the page.
  await rankings.selectOption("#level", "department");
  await rankings.waitForSelector("#rows tr[data-unit='70.XSS']");
  assert.equal(await rankings.locator("#rows tr[data-unit='70.XSS'] td.text").textContent(), hostileName);
  assert.equal(await injected(rankings), 0, "no element from a name in the rankings table");
  assert.equal(await rankings.evaluate(() => window.pwned), undefined);
  await rankings.context().close();
});

test("the pages lay out levels, keys and targets from /api/v1/meta", async () => {
  const meta = await api("/api/v1/meta");
  const root = (await api("/api/v1/overview?window=today")).units[0].code;
  const children = (await api(`/api/v1/units/${root}?window=today`)).children;

  // The wall: one tile group per level among the root's children, in the
  // API's level order, each holding exactly that level's units.
  const wall = await newPage(1920, 1080);
  await wall.goto(`http://127.0.0.1:${port}/?token=${viewer}&window=today`);
  await wall.waitForSelector(".tile-group .tile[data-unit]");
  const present = meta.levels.filter((l) => children.some((c) => c.level === l));
  assert.ok(present.length >= 2, "the root has children of two levels");
  const groups = await wall.locator(".tile-group").evaluateAll((sections) => sections.map((s) => ({
    level: s.dataset.level, title: s.querySelector("h2").textContent,
    units: [...s.querySelectorAll(".tile")].map((t) => t.dataset.unit),
  })));
  assert.deepEqual(groups.map((g) => g.level), present);
  for (const g of groups) {
    assert.deepEqual(g.units, children.filter((c) => c.level === g.level).map((c) => c.unit), g.level);
  }
  assert.equal(groups.find((g) => g.level === "district").title, "Huyện, thị xã, thành phố");
  assert.equal(groups.find((g) => g.level === "department").title, "Sở, ban, ngành");

  // No campaign runs today: the KPIs are judged against the standing targets.
  assert.deepEqual((await api("/api/v1/overview?window=today")).targets, []);
  const standing = Object.fromEntries(meta.targets.map((t) => [t.key, t]));
  assert.equal(standing.online_share.op, ">=");
  assert.match(await wall.locator(".kpi[data-key=online_share] .detail").textContent(),
    new RegExp(`Mục tiêu ≥ ${standing.online_share.target * 100}%$`));
  const online = Number(await kpi(wall, "online_share"));
  assert.equal(await wall.locator(".kpi[data-key=online_share]").getAttribute("class"),
    online >= standing.online_share.target ? "kpi met" : "kpi unmet");
  assert.match(await wall.locator(".kpi[data-key=late_rate] .detail").textContent(), /Mục tiêu < 0,4%$/);
  await wall.context().close();

  // Rankings: the levels below the province and every key, in the API's
  // order; by default the first level with units; ratios as percentages.
  const rankings = await newPage(1280, 800);
  await rankings.goto(`http://127.0.0.1:${port}/rankings?token=${viewer}`);
  await rankings.waitForSelector("#rows tr[data-unit]");
  const values = (select) => rankings.locator(`${select} option`).evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(await values("#level"), meta.levels.slice(1));
  assert.deepEqual(await values("#key"), meta.keys.map((k) => k.key));
  assert.equal(meta.keys.length, 25);
  let first = null;
  for (const level of meta.levels.slice(1)) {
    if ((await api(`/api/v1/rankings?level=${level}&key=received&window=today`)).items.length) { first = level; break; }
  }
  assert.equal(await rankings.locator("#level").inputValue(), first);
  assert.equal(await rankings.locator("#key").inputValue(), "online_share");
  assert.ok(meta.keys.find((k) => k.key === "online_share").ratio);
  await rankings.waitForFunction(() => location.search.includes("level="));
  const cell = async () => rankings.locator("#rows tr[data-unit] td:nth-child(3)").first().textContent();
  assert.match(await cell(), /%$|^–$/, "a ratio as a percentage");
  await rankings.selectOption("#level", "commune");
  await rankings.selectOption("#key", "received");
  assert.equal(meta.keys.find((k) => k.key === "received").ratio, false);
  await rankings.waitForFunction(() => new URL(location.href).searchParams.get("key") === "received");
  await rankings.waitForFunction(() => /^[\d.]+$/.test(document.querySelector("#rows tr[data-unit] td:nth-child(3)")?.textContent ?? ""));
  assert.doesNotMatch(await cell(), /%/, "a count as a number");
  await rankings.context().close();
});

test("the API reference at /api/docs shows every operation of /api/openapi.json, links its schemas, and filters", async () => {
  const base = `http://127.0.0.1:${port}`;
  // The reference and its document are public, even with reads behind tokens.
  const response = await fetch(`${base}/api/openapi.json`);
  assert.equal(response.status, 200, "GET /api/openapi.json without a token");
  const spec = await response.json();
  assert.match(spec.openapi, /^3\.1\./);
  const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
    methods.filter((method) => item[method]).map((method) => ({ method, path, item, op: item[method] })));
  assert.ok(operations.length >= 2, "the document has operations");
  // Each operation's anchor is op-<operationId>: they must be unique.
  const ids = operations.map((o) => o.op.operationId).filter(Boolean);
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], "duplicate operationIds");
  const key = (o) => `${o.method.toUpperCase()} ${o.path}`;
  const pointer = (ref) => ref.slice(2).split("/").map((p) => decodeURIComponent(p).replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((node, part) => node?.[part], spec);
  const deref = (v) => (typeof v?.$ref === "string" ? deref(pointer(v.$ref)) : v);
  // A summary is shown without a leading "`GET /path…`: " (the rest capitalised).
  const shownSummary = (text) => {
    const prefix = text.match(/^`(?:get|put|post|delete|options|head|patch|trace)\s+\/[^`]*`:\s+(?=\S)/i);
    return prefix ? text.slice(prefix[0].length).replace(/^./su, (c) => c.toUpperCase()) : text;
  };
  const exampleOf = (p) => p.example ?? Object.values(p.examples ?? {}).map(deref)[0]?.value ?? p.schema?.example ?? p.schema?.examples?.[0]
    ?? deref(p.schema)?.example ?? deref(p.schema)?.examples?.[0];

  const firstError = errors.length;
  const foreign = [];
  const open = async (path) => {
    const page = await newPage(1440, 900);
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.protocol !== "data:" && url.origin !== base) foreign.push(r.url());
    });
    await page.goto(base + path);
    await page.waitForSelector("body[data-state=ready], body[data-state=error]");
    assert.equal(await page.evaluate(() => document.body.dataset.state), "ready", await page.locator("main").textContent());
    return page;
  };
  const page = await open("/api/docs");
  assert.ok((await page.locator("#title").textContent()).includes(spec.info.title));
  if (spec.info.version) assert.equal(await page.locator("#version").textContent(), `v${spec.info.version}`);

  // Every path × method, once, visible, with its summary, parameters,
  // responses (each media type) and whether it needs a token.
  const shown = await page.locator(".op").evaluateAll((sections) => sections.map((s) => ({
    method: s.dataset.method, path: s.dataset.path, id: s.id, visible: s.getClientRects().length > 0,
    text: s.querySelector(".path").textContent, summary: s.querySelector(".summary")?.textContent ?? "",
    parameters: [...s.querySelectorAll("table.params tbody tr")].map((r) => `${r.dataset.in} ${r.dataset.param}`),
    responses: [...s.querySelectorAll(".response")].map((r) => [r.dataset.status, [...r.querySelectorAll(".media-type")].map((m) => m.textContent)]),
    open: s.querySelector(".security").textContent.includes("No token needed"),
    curl: s.querySelector(".curl").textContent,
  })));
  assert.deepEqual(shown.map(key).sort(), operations.map(key).sort(), "every operation once");
  for (const o of operations) {
    const s = shown.find((x) => x.method === o.method && x.path === o.path);
    assert.ok(s.visible, key(o));
    assert.equal(s.text, o.path);
    if (o.op.operationId) assert.equal(s.id, `op-${o.op.operationId}`, key(o));
    assert.equal(s.summary, shownSummary(o.op.summary || o.item.summary || ""), key(o));
    const own = (o.op.parameters ?? []).map(deref);
    const all = [...(o.item.parameters ?? []).map(deref).filter((p) => !own.some((q) => q.name === p.name && q.in === p.in)), ...own];
    assert.deepEqual([...s.parameters].sort(), all.map((p) => `${p.in} ${p.name}`).sort(), key(o));
    assert.deepEqual(s.responses, Object.entries(o.op.responses ?? {}).map(([status, r]) => [status, Object.keys(deref(r).content ?? {})]), key(o));
    const needsToken = (o.op.security ?? spec.security ?? []).some((r) => Object.keys(r).length > 0);
    assert.equal(s.open, !needsToken, `${key(o)}: security`);
    // The curl line: the token in double quotes (the shell expands it), the
    // URL in single quotes, path parameters filled with their examples (or a
    // placeholder such as CODE, never a {glob}), required query parameters.
    assert.equal(s.curl.includes(`-H "Authorization: Bearer $TOKEN"`), needsToken, `${key(o)}: ${s.curl}`);
    assert.doesNotMatch(s.curl, /'Authorization/, key(o));
    const quoted = s.curl.match(/ '(http[^']*)'$/);
    assert.ok(quoted, `${key(o)}: a quoted URL at the end of ${s.curl}`);
    assert.doesNotMatch(quoted[1], /[{}[\]]/, `${key(o)}: ${s.curl}`);
    const url = new URL(quoted[1]);
    assert.equal(url.origin, base);
    const template = o.path.replace(/\{([^}]*)\}/g, (_, name) => {
      const p = all.find((q) => q.in === "path" && q.name === name);
      const example = p && exampleOf(p);
      return example === undefined ? name.toUpperCase() : encodeURIComponent(String(example));
    });
    assert.equal(decodeURIComponent(url.pathname), decodeURIComponent(template), `${key(o)}: ${s.curl}`);
    for (const p of all.filter((q) => q.in === "query" && q.required)) {
      const example = exampleOf(p);
      assert.equal(url.searchParams.get(p.name), example === undefined ? p.name.toUpperCase() : String(example), `${key(o)}: ${s.curl}`);
    }
  }
  assert.equal(await page.locator("#nav a[href^='#op-']").count(), operations.length, "each operation in the navigation");
  const schemaNames = Object.keys(spec.components?.schemas ?? {});
  assert.deepEqual((await page.locator(".schema[data-schema]").evaluateAll((s) => s.map((x) => x.dataset.schema))).sort(),
    [...schemaNames].sort(), "a block per component schema");
  await page.screenshot({ path: join(shots, "api-docs-1440x900.png") });

  // A $ref in an operation is a link that moves to its schema's block.
  assert.ok(await page.locator(".op a.ref").count() > 0, "operations refer to component schemas");
  const ref = page.locator(".op a.ref:visible").first();
  const [href, name] = [await ref.getAttribute("href"), await ref.textContent()];
  assert.equal(decodeURIComponent(href.slice(1)), `schema-${name}`);
  assert.ok(schemaNames.includes(name), name);
  const atTop = (id) => page.evaluate((id) => {
    const top = document.getElementById(id).getBoundingClientRect().top;
    const bottom = Math.ceil(scrollY + innerHeight) >= document.documentElement.scrollHeight - 1;
    return top >= -1 && (top < 100 || (bottom && top < innerHeight));
  }, id);
  assert.equal(await atTop(`schema-${name}`), false, "the schema starts out of view");
  await ref.click();
  await page.waitForFunction((h) => location.hash === h, href);
  assert.equal(await atTop(`schema-${name}`), true, `scrolled to ${name}`);
  assert.equal(await page.locator(`[id="schema-${name}"]`).getAttribute("data-schema"), name);

  // The filter keeps what matches in path, summary, tag (or method,
  // operationId), hides the rest, here and in the navigation.
  const fields = (o) => [o.method, o.path, o.op.summary || o.item.summary || "", o.op.operationId ?? "", ...(o.op.tags?.length ? o.op.tags : ["Other"])]
    .map((f) => String(f).toLowerCase());
  const matching = (q) => operations.filter((o) => fields(o).some((f) => f.includes(q.toLowerCase())));
  const query = operations.map((o) => o.path).sort((a, b) => matching(a).length - matching(b).length)[0];
  const expected = matching(query);
  assert.ok(expected.length >= 1 && expected.length < operations.length, query);
  const visible = (selector) => page.locator(selector).evaluateAll((nodes) => nodes.filter((n) => n.getClientRects().length > 0).length);
  const visibleOps = () => page.locator(".op").evaluateAll((ss) => ss.filter((s) => s.getClientRects().length > 0).map((s) => `${s.dataset.method.toUpperCase()} ${s.dataset.path}`));
  await page.fill("#filter", query);
  assert.deepEqual((await visibleOps()).sort(), expected.map(key).sort(), `filtered by ${query}`);
  assert.equal(await visible("#nav a[href^='#op-']"), expected.length);
  await page.fill("#filter", "");
  assert.equal((await visibleOps()).length, operations.length);
  await page.context().close();

  // A deep link to the last operation scrolls to it once the page is drawn.
  const last = shown.at(-1);
  const linked = await open(`/api/docs#${encodeURIComponent(last.id)}`);
  await linked.waitForFunction((id) => {
    const top = document.getElementById(id).getBoundingClientRect().top;
    return top >= -1 && top < innerHeight;
  }, last.id);
  assert.ok(await linked.evaluate(() => scrollY > 0), "scrolled down to the operation");
  await linked.context().close();

  // Opened with ?token=, the page passes it on to the document and the pages.
  const withToken = await open(`/api/docs?token=${encodeURIComponent(viewer)}`);
  const headerLinks = (await withToken.locator(".top .links a").evaluateAll((as) => as.map((a) => a.getAttribute("href"))))
    .map((href) => new URL(href, base));
  assert.deepEqual(headerLinks.map((u) => u.origin + u.pathname), ["/api/openapi.json", "/", "/rankings"].map((p) => base + p));
  for (const u of headerLinks) assert.equal(u.searchParams.get("token"), viewer, u.href);
  await withToken.context().close();

  assert.deepEqual(errors.slice(firstError), [], "no console or page errors");
  assert.deepEqual(foreign, [], "no request outside the page's origin");

  // Links in descriptions: only this origin, fragments, and http(s) or
  // mailto written in full (apart, without opener or referrer).
  const hostile = structuredClone(spec);
  hostile.info.description = ["[back](/\\evil.example/p)", "[slashes](//evil.example)", "[script](javascript:alert(1))",
    "[data](data:text/html,x)", "[meta](/api/v1/meta)", "[schemas](#schemas)", "[web](https://example.org/x)",
    "[mail](mailto:a@example.org)"].join(" ");
  const linksContext = await browser.newContext();
  const links = await linksContext.newPage();
  await links.route("**/api/openapi.json", (route) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(hostile) }));
  await links.goto(`${base}/api/docs`);
  await links.waitForSelector("body[data-state=ready]");
  const anchors = await links.locator("#overview .md a").evaluateAll((as) => as.map((a) => [a.textContent, a.href, a.rel, a.target]));
  assert.deepEqual(anchors, [
    ["meta", `${base}/api/v1/meta`, "", ""],
    ["schemas", `${base}/api/docs#schemas`, "", ""],
    ["web", "https://example.org/x", "noopener noreferrer", "_blank"],
    ["mail", "mailto:a@example.org", "noopener noreferrer", "_blank"],
  ]);
  await linksContext.close();

  // Without its document the page says so (a context of its own: the
  // failed fetch is an expected console error there).
  const context = await browser.newContext();
  const broken = await context.newPage();
  await broken.route("**/api/openapi.json", (route) => route.fulfill({ status: 503, contentType: "application/json", body: "{\"error\":\"unavailable\",\"message\":\"test\"}" }));
  await broken.goto(`${base}/api/docs`);
  await broken.waitForSelector("body[data-state=error] #error");
  assert.match(await broken.locator("#error").textContent(), /could not be loaded.*HTTP 503/s);
  await context.close();
});

test("no console errors", () => {
  assert.deepEqual(errors, []);
});

/** The first sheet of an XLSX file as rows of cell texts. */
function readXlsx(bytes) {
  const files = unzipSync(new Uint8Array(bytes));
  const shared = files["xl/sharedStrings.xml"]
    ? [...strFromU8(files["xl/sharedStrings.xml"]).matchAll(/<si>(.*?)<\/si>/gs)].map((m) =>
        [...m[1].matchAll(/<t[^>]*>(.*?)<\/t>/gs)].map((t) => t[1]).join(""))
    : [];
  const xml = strFromU8(files["xl/worksheets/sheet1.xml"]);
  return [...xml.matchAll(/<row[^>]*>(.*?)<\/row>/gs)].map((row) => {
    const cells = [];
    for (const c of row[1].matchAll(/<c r="([A-Z]+)\d+"([^>]*?)(?:\/>|>(.*?)<\/c>)/gs)) {
      const column = [...c[1]].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
      const value = c[3]?.match(/<v>(.*?)<\/v>/s)?.[1] ?? c[3]?.match(/<t[^>]*>(.*?)<\/t>/s)?.[1] ?? "";
      cells[column] = /t="s"/.test(c[2]) ? shared[Number(value)] : value;
    }
    return cells;
  });
}
