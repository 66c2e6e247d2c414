// The leaders' rankings: level, key, window and scope; ranks with movement
// against the previous period, sortable, tap a unit to drill down; Excel
// and CSV from the API. Live over /ws.
"use strict";

const KEYS = ["online_share", "online_services_used_share", "on_time_rate", "late_rate", "paid_online_share",
  "received", "received_online", "finished", "finished_late", "pending", "pending_overdue", "due_soon",
  "progress_rate", "e_result_share", "full_online_share"];
const RATIOS = new Set(["online_share", "online_services_used_share", "on_time_rate", "late_rate", "paid_online_share",
  "progress_rate", "e_result_share", "full_online_share"]);

const $ = (id) => document.getElementById(id);
const page = { items: [], sort: ["rank", 1], topic: null, drill: null, levels: [] };
const choice = () => ({
  level: $("level").value, key: $("key").value, window: $("window").value, scope: $("scope").value,
});

const live = new ioc.Live(onValue, onState);

function onState(state, detail) {
  $("dot").className = "dot" + (state === "live" ? " live" : state === "reconnecting" ? " down" : "");
  if (state === "error") return;
  $("state").textContent = i18n.t(state, detail);
  $("state").dataset.state = state;
}

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
  } else if (page.drill && topic === page.drill.topic) {
    renderDrill(value);
  } else {
    return;
  }
  $("updated").textContent = new Date().toLocaleTimeString(i18n.locale());
}

function format(value) {
  return RATIOS.has($("key").value) ? i18n.percent(value) : i18n.number(value);
}

function movement(m) {
  if (m === null || m === undefined) return `<span class="same">–</span>`;
  if (m > 0) return `<span class="up">▲ ${m}</span>`;
  if (m < 0) return `<span class="down">▼ ${-m}</span>`;
  return `<span class="same">=</span>`;
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
  $("rows").replaceChildren(...rows.map((item) => {
    const tr = document.createElement("tr");
    tr.dataset.unit = item.unit;
    tr.innerHTML = `<td>${item.rank ?? i18n.t("unranked")}</td><td class="text">${ioc.esc(item.name)}</td>` +
      `<td data-value="${ioc.esc(item.value)}">${format(item.value)}</td>` +
      `<td>${i18n.number(item.numerator)} / ${i18n.number(item.denominator)}</td>` +
      `<td>${ioc.esc(item.previous_rank ?? "–")}</td><td>${movement(item.movement)}</td>`;
    tr.onclick = () => openDrill(item);
    return tr;
  }));
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

function openDrill(item) {
  if (page.drill) live.unsubscribe([page.drill.topic]);
  page.drill = { topic: `unit:${item.unit}:${$("window").value}?scope=tree` };
  $("drill-title").textContent = item.name;
  $("drill-rows").replaceChildren();
  live.subscribe([page.drill.topic]);
  $("drill").showModal();
}

function renderDrill(value) {
  const rows = [{ name: value.unit.name, keys: value.keys }, ...value.children];
  $("drill-rows").replaceChildren(...rows.map((c) => {
    const tr = document.createElement("tr");
    const k = c.keys;
    tr.innerHTML = `<td>${ioc.esc(c.name)}</td><td>${i18n.number(k.received)}</td><td>${i18n.percent(k.online_share)}</td>` +
      `<td>${i18n.percent(k.on_time_rate)}</td><td>${i18n.number(k.pending)}</td><td>${i18n.number(k.pending_overdue)}</td>`;
    return tr;
  }));
}

$("drill-close").onclick = () => $("drill").close();
$("drill").onclose = () => {
  if (page.drill) live.unsubscribe([page.drill.topic]);
  page.drill = null;
};

function options(select, values, chosen) {
  select.replaceChildren(...values.map(([value, label]) => new Option(label, value, false, value === chosen)));
}

async function setup() {
  const p = ioc.params;
  const overview = await ioc.api("/api/v1/overview?window=today");
  const levels = Object.keys(overview.levels).filter((l) => l !== "province");
  let campaigns = [];
  try { campaigns = await ioc.api("/api/v1/campaigns"); } catch (e) { onState("error", e.message); }
  options($("level"), levels.map((l) => [l, i18n.t(l)]), p.get("level") || "district");
  options($("key"), KEYS.map((k) => [k, i18n.t(k) === k ? k : i18n.t(k)]), p.get("key") || "online_share");
  const windows = ["today", "7d", "month", "quarter", "year"].map((w) => [w, i18n.t(w)]);
  campaigns.forEach((c) => windows.push([`campaign:${c.id}`, `${i18n.t("campaign")}: ${c.name}`]));
  options($("window"), windows, p.get("window") || "month");
  options($("scope"), [["tree", i18n.t("scope_tree")], ["self", i18n.t("scope_self")]], p.get("scope") || "tree");
  choose();
}

$("choice").onchange = choose;
$("lang").onclick = () => { i18n.toggle(); setup().catch((e) => onState("error", e.message)); };
$("to-wall").href = ioc.withToken("/");
i18n.apply();
setup().catch((e) => onState("error", e.message));
