// What the wall screen and the rankings page share: elements built from
// text (no data ever becomes markup), the connection state badge, the
// read API's /api/v1/meta, the window choices, and the drill-down dialog.
"use strict";

const ui = (() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";

  /**
   * Sets `attrs` on `node` and appends `children`. An attribute that is
   * null, undefined or false is left out; a function under an `on…` name
   * becomes that event's handler. Children are nodes or text (strings and
   * numbers become text nodes; null, undefined and false are skipped;
   * arrays are flattened).
   */
  function fill(node, attrs, children) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (typeof value === "function" && name.startsWith("on")) node[name] = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** An HTML element: `el("td", {class: "text", title: name}, name)`. */
  const el = (tag, attrs, ...children) => fill(document.createElement(tag), attrs, children);

  /** An SVG element: `svg("rect", {x: 0, y: 0}, svg("title", {}, text))`. */
  const svg = (tag, attrs, ...children) => fill(document.createElementNS(SVG, tag), attrs, children);

  /** The connection state badge: the dot and its words. */
  function connection(state, detail) {
    $("dot").className = "dot" + (state === "live" ? " live" : state === "reconnecting" ? " down" : "");
    if (state === "error") return;
    $("state").textContent = i18n.t(state, detail);
    $("state").dataset.state = state;
  }

  /** "Updated" now. */
  function updated() {
    $("updated").textContent = new Date().toLocaleTimeString(i18n.locale());
    $("updated").dataset.at = Date.now();
  }

  let metaAnswer = null;
  /**
   * `GET /api/v1/meta` (once per page): the configured levels top first,
   * every key with whether it is a ratio and which way it improves, and
   * the standing targets.
   */
  function meta() {
    metaAnswer ??= ioc.api("/api/v1/meta").catch((e) => {
      metaAnswer = null;
      throw e;
    });
    return metaAnswer;
  }

  /** `[value, label]` options of a select, `chosen` selected. */
  function options(select, values, chosen) {
    select.replaceChildren(...values.map(([value, label]) => new Option(label, value, false, value === chosen)));
  }

  /** The windows a page offers, then each configured campaign. */
  function windows(campaigns) {
    const list = ["today", "7d", "month", "quarter", "year"].map((w) => [w, i18n.t(w)]);
    for (const c of campaigns) list.push([`campaign:${c.id}`, `${i18n.t("campaign")}: ${c.name}`]);
    return list;
  }

  /** One row of the drill-down table: a unit's name and keys. */
  function drillRow(name, k) {
    return el("tr", {},
      el("td", { title: name }, name),
      el("td", {}, i18n.number(k.received)),
      el("td", {}, i18n.percent(k.online_share)),
      el("td", {}, i18n.percent(k.on_time_rate)),
      el("td", {}, i18n.number(k.pending)),
      el("td", {}, i18n.number(k.pending_overdue)));
  }

  /**
   * The drill-down dialog (`#drill`): one unit's topic, followed while the
   * dialog is open. `topicOf(unit)` names the topic of a unit; with `self`
   * the unit's own row comes before its children's.
   */
  class Drill {
    constructor(live, topicOf, { self = false } = {}) {
      this.live = live;
      this.topicOf = topicOf;
      this.self = self;
      this.unit = null;
      this.topic = null;
      $("drill-close").onclick = () => $("drill").close();
      $("drill").onclose = () => {
        if (this.topic) this.live.unsubscribe([this.topic]);
        this.unit = null;
        this.topic = null;
      };
    }

    open(unit, name) {
      if (this.topic) this.live.unsubscribe([this.topic]);
      this.unit = unit;
      this.topic = this.topicOf(unit);
      $("drill-title").textContent = name;
      $("drill-rows").replaceChildren();
      this.live.subscribe([this.topic]);
      if (!$("drill").open) $("drill").showModal();
    }

    /** Follows the open unit under its topic now (e.g. another window). */
    refresh() {
      if (!this.unit) return;
      const topic = this.topicOf(this.unit);
      if (topic === this.topic) return;
      this.live.unsubscribe([this.topic]);
      this.topic = topic;
      $("drill-rows").replaceChildren();
      this.live.subscribe([topic]);
    }

    /** Shows `value` if it is the open unit's; whether it was. */
    receive(topic, value) {
      if (!this.topic || topic !== this.topic) return false;
      const rows = this.self ? [{ name: value.unit.name, keys: value.keys }, ...value.children] : value.children;
      $("drill-rows").replaceChildren(...rows.map((c) => drillRow(c.name, c.keys)));
      return true;
    }
  }

  return { $, el, svg, connection, updated, meta, options, windows, Drill };
})();
