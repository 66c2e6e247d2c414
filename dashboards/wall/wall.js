// The IOC wall screen: province KPIs against campaign targets, a tile per
// district and department (with its unacknowledged alerts) and drill-down
// to communes, backlog, a ticker of alert events, and a 30-day trend; live
// over /ws.
"use strict";

const KPIS = [
  ["online_share", (k) => [k.received_online, k.received]],
  ["online_services_used_share", (k) => [k.online_services_used, k.online_services]],
  ["on_time_rate", (k) => [k.finished_early + k.finished_on_time, k.finished]],
  ["late_rate", (k) => [k.finished_late, k.finished]],
  ["paid_online_share", (k) => [k.paid_online, k.fee_dossiers]],
];
/** Targets of METRICS.md, used when no campaign is running. */
const DEFAULT_TARGETS = { online_share: [">=", 0.5], late_rate: ["<", 0.004], online_services_used_share: [">=", 0.8] };

const $ = (id) => document.getElementById(id);
const page = {
  window: ioc.params.get("window") || "today",
  overview: null, root: null, children: null, drill: null, drillValue: null, alerts: null,
};

const topics = () => {
  const list = [`overview:${page.window}`, "alerts"];
  if (page.root) list.push(`unit:${page.root}:${page.window}`);
  if (page.drill) list.push(`unit:${page.drill}:${page.window}`);
  return list;
};

const live = new ioc.Live(onValue, onState);
live.subscribe(topics());

function onState(state, detail) {
  const dot = $("dot");
  dot.className = "dot" + (state === "live" ? " live" : state === "reconnecting" ? " down" : "");
  if (state === "error") return;
  $("state").textContent = i18n.t(state, detail);
  $("state").dataset.state = state;
}

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
  } else if (page.drill && topic === `unit:${page.drill}:${page.window}`) {
    page.drillValue = value;
    renderDrill();
  } else if (topic === "alerts") {
    page.alerts = value;
    renderTicker();
    if (page.children) renderTiles();
  } else {
    return;
  }
  $("updated").textContent = new Date().toLocaleTimeString(i18n.locale());
  $("updated").dataset.at = Date.now();
}

function target(key) {
  const running = (page.overview?.targets || []).find((t) => t.key === key);
  if (running) return [running.op, running.target];
  return DEFAULT_TARGETS[key];
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
    const card = document.createElement("div");
    const goal = target(key);
    const met = goal ? meets(goal, keys[key]) : null;
    card.className = "kpi" + (met === true ? " met" : met === false ? " unmet" : "");
    card.dataset.key = key;
    const [num, den] = parts(keys);
    const goalText = goal ? `${i18n.t("target")} ${goal[0].replace(">=", "≥").replace("<=", "≤")} ${i18n.percent(goal[1], goal[1] < 0.01 ? 1 : 0)}` : "";
    card.innerHTML = `<div class="label">${i18n.t(key)}</div><div class="value" data-value="${ioc.esc(keys[key])}">${i18n.percent(keys[key])}</div>` +
      `<div class="detail">${i18n.number(num)} / ${i18n.number(den)} · ${goalText}</div>`;
    return card;
  }));
  $("pending").textContent = i18n.number(keys.pending);
  $("overdue").textContent = i18n.number(keys.pending_overdue);
  $("due-soon").textContent = i18n.number(keys.due_soon);
  if (page.children) renderTiles();
}

function tileClass(keys) {
  if (meets(target("late_rate") || DEFAULT_TARGETS.late_rate, keys.late_rate) === false) return "bad";
  if (meets(target("online_share") || DEFAULT_TARGETS.online_share, keys.online_share) === false) return "warn";
  return keys.received ? "good" : "";
}

function tile(child, compact) {
  const k = child.keys;
  const el = document.createElement("button");
  el.type = "button";
  el.className = `tile ${tileClass(k)}`;
  el.dataset.unit = child.unit;
  el.onclick = () => openDrill(child.unit, child.name);
  const open = page.alerts?.rollup?.[child.unit]?.unacknowledged;
  const badge = open ? `<span class="badge" title="${i18n.t("alerts_open", open)}">${i18n.number(open)}</span>` : "";
  if (compact) {
    el.innerHTML = `<div class="name" title="${ioc.esc(child.name)}">${badge}${ioc.esc(child.name)}</div>` +
      `<div class="line"><b>${i18n.percent(k.online_share, 0)}</b><span>${i18n.number(k.pending_overdue)} ${i18n.t("pending_overdue").toLowerCase()}</span></div>`;
    return el;
  }
  el.innerHTML = `<div class="name" title="${ioc.esc(child.name)}">${badge}${ioc.esc(child.name)}</div>` +
    `<div class="big">${i18n.percent(k.online_share, 0)}</div>` +
    `<div class="row"><span>${i18n.t("received")}</span><span>${i18n.number(k.received)}</span></div>` +
    `<div class="row"><span>${i18n.t("pending")}</span><span>${i18n.number(k.pending)}</span></div>` +
    `<div class="row"><span>${i18n.t("pending_overdue")}</span><span>${i18n.number(k.pending_overdue)}</span></div>`;
  return el;
}

function renderTiles() {
  const children = page.children || [];
  $("districts").replaceChildren(...children.filter((c) => c.level === "district").map((c) => tile(c, false)));
  $("departments").replaceChildren(...children.filter((c) => c.level !== "district").map((c) => tile(c, true)));
}

/** The latest alert events, newest first: raised, escalated, acknowledged, cleared. */
function renderTicker() {
  const alerts = page.alerts || {};
  $("alert-count").textContent = alerts.active
    ? i18n.t("alerts_summary", i18n.number(alerts.active), i18n.number(alerts.unacknowledged)) : "";
  const events = Object.values(alerts.events || {}).sort((a, b) => b.seq - a.seq).slice(0, 8);
  const items = events.map((e) => {
    const li = document.createElement("li");
    li.className = e.kind === "clear" || e.kind === "ack" ? "" : e.severity === "info" ? "warn" : "bad";
    li.dataset.kind = e.kind;
    li.dataset.rule = e.rule || "";
    const what = i18n.t(`rule_${e.rule}`) === `rule_${e.rule}` ? e.rule : i18n.t(`rule_${e.rule}`);
    const where = e.unit?.name || e.unit?.code || "";
    const dossier = e.dossier ? ` (${e.dossier})` : e.source && e.rule === "source_silent" ? ` (${e.source})` : "";
    const at = new Date(e.at).toLocaleTimeString(i18n.locale(), { hour: "2-digit", minute: "2-digit" });
    li.textContent = `${at} · ${i18n.t(`event_${e.kind}`)}: ${what} — ${where}${dossier}`;
    return li;
  });
  if (!items.length) {
    const li = document.createElement("li");
    li.textContent = i18n.t("nothing");
    items.push(li);
  }
  $("ticker").replaceChildren(...items);
}

function openDrill(code, name) {
  if (page.drill) live.unsubscribe([`unit:${page.drill}:${page.window}`]);
  page.drill = code;
  page.drillValue = null;
  $("drill-title").textContent = name;
  $("drill-rows").replaceChildren();
  live.subscribe(topics());
  $("drill").showModal();
}

function renderDrill() {
  const rows = page.drillValue.children.map((c) => {
    const tr = document.createElement("tr");
    const k = c.keys;
    tr.innerHTML = `<td>${ioc.esc(c.name)}</td><td>${i18n.number(k.received)}</td><td>${i18n.percent(k.online_share)}</td>` +
      `<td>${i18n.percent(k.on_time_rate)}</td><td>${i18n.number(k.pending)}</td><td>${i18n.number(k.pending_overdue)}</td>`;
    return tr;
  });
  $("drill-rows").replaceChildren(...rows);
}

$("drill-close").onclick = () => $("drill").close();
$("drill").onclose = () => {
  if (page.drill) live.unsubscribe([`unit:${page.drill}:${page.window}`]);
  page.drill = null;
};

async function loadTrend() {
  if (!page.root) return;
  try {
    const trend = await ioc.api(`/api/v1/units/${page.root}/trend?days=30&scope=tree`);
    drawTrend(trend.days);
  } catch (e) {
    onState("error", e.message);
  }
}

function drawTrend(days) {
  const svg = $("trend");
  const width = 1000, height = 160, top = 10, bottom = 22;
  const max = Math.max(1, ...days.map((d) => d.received));
  const step = width / days.length;
  const y = (f) => top + (height - top - bottom) * (1 - f);
  const parts = days.map((d, i) => {
    const h = (height - top - bottom) * d.received / max;
    return `<rect class="bar" x="${i * step + 2}" y="${height - bottom - h}" width="${step - 4}" height="${h}"><title>${ioc.esc(d.date)}: ${i18n.number(d.received)}</title></rect>`;
  });
  const points = days.map((d, i) => d.online_share === null ? null : `${i * step + step / 2},${y(d.online_share)}`).filter(Boolean);
  parts.push(`<polyline class="line" points="${points.join(" ")}"/>`);
  days.forEach((d, i) => {
    const last = i === days.length - 1;
    if (i % 5 === 0 || last) parts.push(`<text x="${last ? width - 2 : i * step + 2}" y="${height - 4}"${last ? ' text-anchor="end"' : ""}>${ioc.esc(d.date.slice(5))}</text>`);
  });
  parts.push(`<text x="4" y="${top + 12}">${i18n.number(max)} ${i18n.t("dossiers")}</text>`);
  svg.innerHTML = parts.join("");
}
setInterval(loadTrend, 60_000);

async function setupWindows() {
  const select = $("window");
  const names = ["today", "7d", "month", "quarter", "year"];
  const options = names.map((n) => [n, i18n.t(n)]);
  try {
    for (const c of await ioc.api("/api/v1/campaigns")) options.push([`campaign:${c.id}`, `${i18n.t("campaign")}: ${c.name}`]);
  } catch (e) {
    onState("error", e.message);
  }
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value, false, value === page.window)));
  select.onchange = () => {
    live.unsubscribe(topics());
    page.window = select.value;
    page.children = null;
    live.subscribe(topics());
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
