// The leaders' rankings: level, key, window and scope; ranks with movement
// against the previous period, sortable, tap a unit to drill down; Excel
// and CSV from the API. Levels and keys are the API's (/api/v1/meta). Live
// over /ws.
"use strict";

const { $, el } = ui;
const page = { items: [], sort: ["rank", 1], topic: null, ratios: new Set() };
const choice = () => ({
  level: $("level").value, key: $("key").value, window: $("window").value, scope: $("scope").value,
});

const live = new ioc.Live(onValue, ui.connection);
const drill = new ui.Drill(live, (unit) => `unit:${unit}:${$("window").value}?scope=tree`, { self: true });

function topicOf(c) {
  return `ranking:${c.level}:${c.key}:${c.window}` + (c.scope === "tree" ? "?scope=tree" : "");
}

function query(c, format) {
  const q = new URLSearchParams({ level: c.level, key: c.key, window: c.window, scope: c.scope });
  if (format) q.set("format", format);
  return `/api/v1/rankings?${q}`;
}

function choose() {
  const c = choice();
  const topic = topicOf(c);
  if (page.topic && page.topic !== topic) live.unsubscribe([page.topic]);
  page.topic = topic;
  live.subscribe([topic]);
  $("xlsx").href = ioc.withToken(query(c, "xlsx"));
  $("csv").href = ioc.withToken(query(c, "csv"));
  const url = new URL(location.href);
  Object.entries(c).forEach(([k, v]) => url.searchParams.set(k, v));
  history.replaceState(null, "", url);
}

function onValue(topic, value) {
  if (topic === page.topic) {
    page.items = value.items;
    render();
  } else if (!drill.receive(topic, value)) {
    return;
  }
  ui.updated();
}

function format(value) {
  return page.ratios.has($("key").value) ? i18n.percent(value) : i18n.number(value);
}

function movement(m) {
  if (m === null || m === undefined) return el("span", { class: "same" }, "–");
  if (m > 0) return el("span", { class: "up" }, `▲ ${m}`);
  if (m < 0) return el("span", { class: "down" }, `▼ ${-m}`);
  return el("span", { class: "same" }, "=");
}

function render() {
  const [field, direction] = page.sort;
  const rows = [...page.items].sort((a, b) => {
    const x = a[field], y = b[field];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (typeof x === "string" ? x.localeCompare(y, i18n.locale()) : x - y) * direction;
  });
  $("rows").replaceChildren(...rows.map((item) => el("tr", { "data-unit": item.unit, onclick: () => drill.open(item.unit, item.name) },
    el("td", {}, item.rank ?? i18n.t("unranked")),
    el("td", { class: "text", title: item.name }, item.name),
    el("td", { "data-value": item.value ?? "" }, format(item.value)),
    el("td", {}, `${i18n.number(item.numerator)} / ${i18n.number(item.denominator)}`),
    el("td", {}, item.previous_rank ?? "–"),
    el("td", {}, movement(item.movement)))));
  document.querySelectorAll("#table th").forEach((th) => {
    th.setAttribute("aria-sort", th.dataset.sort === field ? (direction > 0 ? "ascending" : "descending") : "none");
  });
}

document.querySelectorAll("#table th").forEach((th) => {
  th.onclick = () => {
    const [field, direction] = page.sort;
    page.sort = [th.dataset.sort, field === th.dataset.sort ? -direction : 1];
    render();
  };
});

let firstLevel = null;
/** The first of `levels` (top first) that has units, else the first. */
function defaultLevel(levels, key) {
  firstLevel ??= (async () => {
    for (const level of levels) {
      const q = new URLSearchParams({ level, key, window: "today" });
      if ((await ioc.api(`/api/v1/rankings?${q}`)).items.length) return level;
    }
    return levels[0];
  })().catch((e) => {
    firstLevel = null;
    throw e;
  });
  return firstLevel;
}

async function setup() {
  const p = ioc.params;
  const meta = await ui.meta();
  page.ratios = new Set(meta.keys.filter((k) => k.ratio).map((k) => k.key));
  // Units are ranked among their level; the top level is the province.
  const levels = meta.levels.slice(1);
  const keys = meta.keys.map((k) => k.key);
  let campaigns = [];
  try { campaigns = await ioc.api("/api/v1/campaigns"); } catch (e) { ui.connection("error", e.message); }
  ui.options($("level"), levels.map((l) => [l, i18n.t(l)]), p.get("level") || await defaultLevel(levels, keys[0]));
  ui.options($("key"), keys.map((k) => [k, i18n.t(k)]), p.get("key") || (keys.includes("online_share") ? "online_share" : keys[0]));
  ui.options($("window"), ui.windows(campaigns), p.get("window") || "month");
  ui.options($("scope"), [["tree", i18n.t("scope_tree")], ["self", i18n.t("scope_self")]], p.get("scope") || "tree");
  choose();
}

$("choice").onchange = choose;
$("lang").onclick = () => { i18n.toggle(); setup().catch((e) => ui.connection("error", e.message)); };
$("to-wall").href = ioc.withToken("/");
i18n.apply();
setup().catch((e) => ui.connection("error", e.message));
