// The IOC wall screen: province KPIs against campaign (else standing)
// targets, a tile per unit under the province grouped by level (with its
// unacknowledged alerts) and drill-down to the units below it, backlog, a
// ticker of alert events, and a 30-day trend; live over /ws.
"use strict";

const KPIS = [
  ["online_share", (k) => [k.received_online, k.received]],
  ["online_services_used_share", (k) => [k.online_services_used, k.online_services]],
  ["on_time_rate", (k) => [k.finished_early + k.finished_on_time, k.finished]],
  ["late_rate", (k) => [k.finished_late, k.finished]],
  ["paid_online_share", (k) => [k.paid_online, k.fee_dossiers]],
];
/** A group of at most this many tiles (two rows) shows them in full; a larger one, compact. */
const FULL_TILES = 12;

const { $, el, svg } = ui;
const page = {
  window: ioc.params.get("window") || "today",
  meta: null, overview: null, root: null, children: null, alerts: null,
};

const topics = () => {
  const list = [`overview:${page.window}`, "alerts"];
  if (page.root) list.push(`unit:${page.root}:${page.window}`);
  return list;
};

const live = new ioc.Live(onValue, ui.connection);
const drill = new ui.Drill(live, (unit) => `unit:${unit}:${page.window}`);
// Levels and standing targets first, so that the first frame is laid out
// as the API describes the tree; without them the tiles keep the order of
// the units' levels as they come.
ui.meta().then((meta) => { page.meta = meta; }, (e) => ui.connection("error", e.message))
  .finally(() => live.subscribe(topics()));

function onValue(topic, value) {
  if (topic === `overview:${page.window}`) {
    page.overview = value;
    const root = value.units[0]?.code;
    if (root && root !== page.root) {
      page.root = root;
      live.subscribe(topics());
      loadTrend();
    }
    renderOverview();
  } else if (page.root && topic === `unit:${page.root}:${page.window}`) {
    page.children = value.children;
    renderTiles();
  } else if (drill.receive(topic, value)) {
    // shown in the dialog
  } else if (topic === "alerts") {
    page.alerts = value;
    renderTicker();
    if (page.children) renderTiles();
  } else {
    return;
  }
  ui.updated();
}

/** `[op, target]` of `key`: a running campaign's, else the standing one (METRICS.md). */
function target(key) {
  const running = (page.overview?.targets || []).find((t) => t.key === key);
  const goal = running || (page.meta?.targets || []).find((t) => t.key === key);
  return goal ? [goal.op, goal.target] : undefined;
}

function meets([op, goal], value) {
  if (value === null || value === undefined) return null;
  return op === "<" ? value < goal : op === "<=" ? value <= goal : op === ">" ? value > goal : value >= goal;
}

function renderOverview() {
  const o = page.overview;
  $("province").textContent = o.units.map((u) => u.name).join(", ");
  const keys = o.province;
  $("kpis").replaceChildren(...KPIS.map(([key, parts]) => {
    const goal = target(key);
    const met = goal ? meets(goal, keys[key]) : null;
    const [num, den] = parts(keys);
    const goalText = goal ? `${i18n.t("target")} ${goal[0].replace(">=", "≥").replace("<=", "≤")} ${i18n.percent(goal[1], goal[1] < 0.01 ? 1 : 0)}` : "";
    return el("div", { class: "kpi" + (met === true ? " met" : met === false ? " unmet" : ""), "data-key": key },
      el("div", { class: "label" }, i18n.t(key)),
      el("div", { class: "value", "data-value": keys[key] ?? "" }, i18n.percent(keys[key])),
      el("div", { class: "detail" }, `${i18n.number(num)} / ${i18n.number(den)} · ${goalText}`));
  }));
  $("pending").textContent = i18n.number(keys.pending);
  $("overdue").textContent = i18n.number(keys.pending_overdue);
  $("due-soon").textContent = i18n.number(keys.due_soon);
  if (page.children) renderTiles();
}

function tileClass(keys) {
  const late = target("late_rate");
  if (late && meets(late, keys.late_rate) === false) return "bad";
  const online = target("online_share");
  if (online && meets(online, keys.online_share) === false) return "warn";
  return keys.received ? "good" : "";
}

function tile(child, compact) {
  const k = child.keys;
  const open = page.alerts?.rollup?.[child.unit]?.unacknowledged;
  const name = el("div", { class: "name", title: child.name },
    open ? el("span", { class: "badge", title: i18n.t("alerts_open", open) }, i18n.number(open)) : null,
    child.name);
  const row = (label, value) => el("div", { class: "row" }, el("span", {}, label), el("span", {}, value));
  const body = compact
    ? [el("div", { class: "line" },
        el("b", {}, i18n.percent(k.online_share, 0)),
        el("span", {}, `${i18n.number(k.pending_overdue)} ${i18n.t("pending_overdue").toLowerCase()}`))]
    : [el("div", { class: "big" }, i18n.percent(k.online_share, 0)),
        row(i18n.t("received"), i18n.number(k.received)),
        row(i18n.t("pending"), i18n.number(k.pending)),
        row(i18n.t("pending_overdue"), i18n.number(k.pending_overdue))];
  return el("button", {
    type: "button", class: `tile ${tileClass(k)}`, "data-unit": child.unit,
    onclick: () => drill.open(child.unit, child.name),
  }, name, body);
}

/**
 * The root's children, one group per level in the order of the API's
 * levels (a level the API did not list comes after, in order of appearance).
 */
function groups(children) {
  const order = [...(page.meta?.levels || [])];
  for (const c of children) if (!order.includes(c.level)) order.push(c.level);
  return order.map((level) => [level, children.filter((c) => c.level === level)]).filter(([, units]) => units.length);
}

function renderTiles() {
  $("tiles").replaceChildren(...groups(page.children || []).map(([level, units]) => {
    const compact = units.length > FULL_TILES;
    return el("section", { class: "tile-group", "data-level": level },
      el("h2", {}, i18n.plural(level)),
      el("div", { class: compact ? "tiles small" : "tiles" }, units.map((c) => tile(c, compact))));
  }));
}

/** The latest alert events, newest first: raised, escalated, acknowledged, cleared. */
function renderTicker() {
  const alerts = page.alerts || {};
  $("alert-count").textContent = alerts.active
    ? i18n.t("alerts_summary", i18n.number(alerts.active), i18n.number(alerts.unacknowledged)) : "";
  const events = Object.values(alerts.events || {}).sort((a, b) => b.seq - a.seq).slice(0, 8);
  const items = events.map((e) => {
    const what = i18n.t(`rule_${e.rule}`) === `rule_${e.rule}` ? e.rule : i18n.t(`rule_${e.rule}`);
    const where = e.unit?.name || e.unit?.code || "";
    const dossier = e.dossier ? ` (${e.dossier})` : e.source && e.rule === "source_silent" ? ` (${e.source})` : "";
    const at = new Date(e.at).toLocaleTimeString(i18n.locale(), { hour: "2-digit", minute: "2-digit" });
    return el("li", {
      class: e.kind === "clear" || e.kind === "ack" ? "" : e.severity === "info" ? "warn" : "bad",
      "data-kind": e.kind, "data-rule": e.rule || "",
    }, `${at} · ${i18n.t(`event_${e.kind}`)}: ${what} — ${where}${dossier}`);
  });
  if (!items.length) items.push(el("li", {}, i18n.t("nothing")));
  $("ticker").replaceChildren(...items);
}

async function loadTrend() {
  if (!page.root) return;
  try {
    const trend = await ioc.api(`/api/v1/units/${page.root}/trend?days=30&scope=tree`);
    drawTrend(trend.days);
  } catch (e) {
    ui.connection("error", e.message);
  }
}

function drawTrend(days) {
  const width = 1000, height = 160, top = 10, bottom = 22;
  const max = Math.max(1, ...days.map((d) => d.received));
  const step = width / days.length;
  const y = (f) => top + (height - top - bottom) * (1 - f);
  const parts = days.map((d, i) => {
    const h = (height - top - bottom) * d.received / max;
    return svg("rect", { class: "bar", x: i * step + 2, y: height - bottom - h, width: step - 4, height: h },
      svg("title", {}, `${d.date}: ${i18n.number(d.received)}`));
  });
  const points = days.map((d, i) => d.online_share === null ? null : `${i * step + step / 2},${y(d.online_share)}`).filter(Boolean);
  parts.push(svg("polyline", { class: "line", points: points.join(" ") }));
  days.forEach((d, i) => {
    const last = i === days.length - 1;
    if (i % 5 === 0 || last) {
      parts.push(svg("text", { x: last ? width - 2 : i * step + 2, y: height - 4, "text-anchor": last ? "end" : null }, d.date.slice(5)));
    }
  });
  parts.push(svg("text", { x: 4, y: top + 12 }, `${i18n.number(max)} ${i18n.t("dossiers")}`));
  $("trend").replaceChildren(...parts);
}
setInterval(loadTrend, 60_000);

async function setupWindows() {
  const select = $("window");
  let campaigns = [];
  try {
    campaigns = await ioc.api("/api/v1/campaigns");
  } catch (e) {
    ui.connection("error", e.message);
  }
  ui.options(select, ui.windows(campaigns), page.window);
  select.onchange = () => {
    live.unsubscribe(topics());
    page.window = select.value;
    page.children = null;
    live.subscribe(topics());
    drill.refresh();
  };
}

$("lang").onclick = () => {
  i18n.toggle();
  if (page.overview) renderOverview();
  if (page.children) renderTiles();
  setupWindows();
};
$("to-rankings").href = ioc.withToken("/rankings");
i18n.apply();
setupWindows();
