// ioc live client: one WebSocket, topics kept as the server's client
// contract says (docs/API.md "Live updates"): a snapshot replaces, a delta
// with the next seq is merged (RFC 7386), anything else resubscribes;
// reconnects with exponential backoff and jitter, and resubscribes all.
"use strict";

const ioc = (() => {
  const params = new URLSearchParams(location.search);
  const token = params.get("token");

  /** GET a JSON body of the REST API (with the page's token, if any). */
  async function api(path) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const response = await fetch(path, { headers });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  /** A URL of the API carrying the page's token (for downloads). */
  function withToken(path) {
    if (!token) return path;
    return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
  }

  function merge(target, patch) {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
    const out = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = merge(out[key], value);
    }
    return out;
  }

  /**
   * Live topics. `onValue(topic, value)` after each change; `onState(state,
   * detail)` with "connecting", "live", "reconnecting" or "error".
   */
  class Live {
    constructor(onValue, onState) {
      this.onValue = onValue;
      this.onState = onState;
      this.topics = new Set();
      this.held = new Map();
      this.attempt = 0;
      this.connect();
    }

    connect() {
      this.onState("connecting");
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const query = token ? `?token=${encodeURIComponent(token)}` : "";
      const socket = new WebSocket(`${scheme}//${location.host}/ws${query}`);
      this.socket = socket;
      socket.onopen = () => {
        this.held.clear();
        if (this.topics.size) this.send("subscribe", [...this.topics]);
      };
      socket.onmessage = (event) => this.receive(JSON.parse(event.data));
      socket.onclose = (event) => {
        if (this.socket !== socket) return;
        // 1013: this node is full; wait longer before trying again.
        const base = Math.min(30000, 500 * 2 ** this.attempt) + (event.code === 1013 ? 5000 : 0);
        const wait = base / 2 + Math.random() * base / 2;
        this.attempt += 1;
        this.onState("reconnecting", Math.round(wait / 1000));
        setTimeout(() => this.connect(), wait);
      };
    }

    send(op, topics) {
      if (this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify({ op, topics }));
      }
    }

    subscribe(topics) {
      const fresh = topics.filter((t) => !this.topics.has(t));
      fresh.forEach((t) => this.topics.add(t));
      if (fresh.length) this.send("subscribe", fresh);
    }

    unsubscribe(topics) {
      const known = topics.filter((t) => this.topics.delete(t));
      known.forEach((t) => this.held.delete(t));
      if (known.length) this.send("unsubscribe", known);
    }

    receive(frame) {
      if (frame.type === "error") {
        this.onState("error", `${frame.code}: ${frame.message}`);
        return;
      }
      if (frame.type !== "snapshot" && frame.type !== "delta") return;
      if (!this.topics.has(frame.topic)) return;
      const held = this.held.get(frame.topic);
      if (frame.type === "snapshot") {
        this.held.set(frame.topic, { epoch: frame.epoch, seq: frame.seq, value: frame.data });
      } else if (held && held.epoch === frame.epoch && frame.seq === held.seq + 1) {
        held.value = merge(held.value, frame.data);
        held.seq = frame.seq;
      } else if (held && held.epoch === frame.epoch && frame.seq <= held.seq) {
        return;
      } else {
        // A gap or another server run: ask again for a snapshot.
        this.held.delete(frame.topic);
        this.send("subscribe", [frame.topic]);
        return;
      }
      this.attempt = 0;
      this.onState("live");
      this.onValue(frame.topic, this.held.get(frame.topic).value);
    }
  }

  return { api, withToken, Live, params };
})();
