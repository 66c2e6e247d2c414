// The API reference page (/api/docs): reads /api/openapi.json (OpenAPI 3.1,
// as utoipa writes it) and lays it out as text: operations grouped by tag
// with their parameters, bodies, responses and security, then every
// component schema as a tree. Nothing of the document ever becomes markup:
// every node is built with ui.el from text, descriptions included (a small
// Markdown subset, built node by node). A $ref is always a link to its
// schema's block, never inlined, so recursive schemas stay finite.
"use strict";

(() => {
  const { $, el } = ui;
  const SOURCE = "/api/openapi.json";
  const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  /** How deep inline (not $ref) schemas are drawn before "…". */
  const MAX_DEPTH = 12;
  const token = new URLSearchParams(location.search).get("token");

  let spec = {};
  /** Every operation shown: its section, nav entry and filter text. */
  const operations = [];
  /** Every tag group: its section, nav entry and operations. */
  const groups = [];

  // ---- The document -----------------------------------------------------

  async function load() {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    let response;
    try {
      response = await fetch(SOURCE, { headers, cache: "no-cache" });
    } catch (e) {
      throw new Error(`the server did not answer (${e.message}).`);
    }
    if (!response.ok) throw new Error(`the server answered HTTP ${response.status}${response.statusText ? " " + response.statusText : ""}.`);
    const text = await response.text();
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new Error(`the answer is not JSON (${e.message}).`);
    }
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error("the answer is not an OpenAPI document.");
    return doc;
  }

  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const entries = (v) => (isObject(v) ? Object.entries(v) : []);

  /** The value a local JSON pointer (`#/components/…`) names, if any. */
  function pointer(ref) {
    if (typeof ref !== "string" || !ref.startsWith("#/")) return undefined;
    let node = spec;
    for (const raw of ref.slice(2).split("/")) {
      let part;
      try {
        part = decodeURIComponent(raw);
      } catch {
        part = raw;
      }
      part = part.replaceAll("~1", "/").replaceAll("~0", "~");
      if (!isObject(node) && !Array.isArray(node)) return undefined;
      node = node[part];
    }
    return node;
  }

  /**
   * A parameter, request body, response or header with its `$ref`s
   * followed (the reference's own `description` and `summary` win, as in
   * 3.1). Stops after a few hops, so a loop of references ends.
   */
  function resolve(value) {
    let node = value;
    for (let hops = 0; isObject(node) && typeof node.$ref === "string" && hops < 8; hops++) {
      const target = pointer(node.$ref);
      if (!isObject(target)) return { ...node, unresolved: node.$ref };
      const { $ref, ...own } = node;
      node = { ...target, ...own };
    }
    return node;
  }

  /** The component schema's name a `$ref` points at, or null. */
  function schemaName(ref) {
    const prefix = "#/components/schemas/";
    if (typeof ref !== "string" || !ref.startsWith(prefix)) return null;
    let name = ref.slice(prefix.length);
    try {
      name = decodeURIComponent(name);
    } catch { /* as written */ }
    return name.replaceAll("~1", "/").replaceAll("~0", "~");
  }

  const schemaAnchor = (name) => `schema-${name}`;
  const schemas = () => (isObject(spec.components?.schemas) ? spec.components.schemas : {});

  // ---- Text -------------------------------------------------------------

  /**
   * A URL a description may link to, as `{ href, external }`, or null: a
   * `#fragment`, what the browser resolves to this origin over http(s), or
   * an absolute http(s) or mailto URL (external: opened apart, with
   * rel="noopener noreferrer"). Judged by what `new URL` resolves it to, so
   * `//host`, `/\host` and the like are never taken for this origin.
   */
  function safeHref(url) {
    const raw = String(url ?? "").trim();
    if (!raw) return null;
    if (raw.startsWith("#")) return { href: raw, external: false };
    let resolved;
    try {
      resolved = new URL(raw, location.href);
    } catch {
      return null;
    }
    const web = resolved.protocol === "http:" || resolved.protocol === "https:";
    if (web && resolved.origin === location.origin) return { href: resolved.href, external: false };
    // Elsewhere only when written out in full (not `//host/…`, `/\host`).
    const absolute = /^(https?|mailto):/i.test(raw);
    if (absolute && (web || resolved.protocol === "mailto:")) return { href: resolved.href, external: true };
    return null;
  }

  function link(text, url) {
    const safe = safeHref(url);
    if (!safe) return [text];
    const { href, external } = safe;
    return [el("a", { href, rel: external ? "noopener noreferrer" : null, target: external ? "_blank" : null }, text)];
  }

  /** Inline Markdown: `code`, **strong**, *em*, [text](url), <url>. */
  function inline(text) {
    const out = [];
    const pattern = /`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)|<((?:https?:\/\/|mailto:)[^>\s]+)>/g;
    let at = 0;
    for (const m of text.matchAll(pattern)) {
      if (m.index > at) out.push(text.slice(at, m.index));
      if (m[1] !== undefined) out.push(el("code", {}, m[1]));
      else if (m[2] !== undefined) out.push(el("strong", {}, inline(m[2])));
      else if (m[3] !== undefined) out.push(el("em", {}, inline(m[3])));
      else if (m[4] !== undefined) out.push(...link(inline(m[4]), m[5]));
      else out.push(...link(m[6], m[6]));
      at = m.index + m[0].length;
    }
    if (at < text.length) out.push(text.slice(at));
    return out;
  }

  const cells = (line) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());

  /**
   * Block Markdown as rustdoc comments write it: paragraphs, lists,
   * fenced code, headings and pipe tables. Returns a `div.md`, or null.
   */
  function markdown(text, className = "") {
    if (typeof text !== "string" || !text.trim()) return null;
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    const blocks = [];
    let paragraph = [];
    let list = null;
    const flush = () => {
      if (paragraph.length) blocks.push(el("p", {}, inline(paragraph.join(" "))));
      paragraph = [];
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const item = line.match(/^\s*([-*+]|\d+[.)])\s+(.*)$/);
      if (/^\s*```/.test(line)) {
        flush();
        list = null;
        const code = [];
        for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) code.push(lines[i]);
        blocks.push(el("pre", {}, el("code", {}, code.join("\n"))));
      } else if (!line.trim()) {
        flush();
        list = null;
      } else if (/^#{1,6}\s/.test(line)) {
        flush();
        list = null;
        blocks.push(el("h5", {}, inline(line.replace(/^#+\s*/, ""))));
      } else if (/^\s*\|/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) {
        flush();
        list = null;
        const head = cells(line);
        const rows = [];
        for (i += 2; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(cells(lines[i]));
        i--;
        blocks.push(el("table", { class: "md-table" },
          el("thead", {}, el("tr", {}, head.map((c) => el("th", {}, inline(c))))),
          el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, inline(c))))))));
      } else if (item) {
        flush();
        const ordered = /\d/.test(item[1]);
        if (!list || list.ordered !== ordered) {
          list = { ordered, node: el(ordered ? "ol" : "ul", {}) };
          blocks.push(list.node);
        }
        list.node.append(el("li", {}, inline(item[2])));
      } else if (list && /^\s+\S/.test(line)) {
        list.node.lastChild.append(" ", ...inline(line.trim()));
      } else {
        list = null;
        paragraph.push(line.trim());
      }
    }
    flush();
    return el("div", { class: `md ${className}`.trim() }, blocks);
  }

  // ---- Schemas ----------------------------------------------------------

  /** A link to a component schema's block (or the reference as text). */
  function refLink(ref) {
    const name = schemaName(ref);
    if (name === null) return el("code", { class: "ref external", title: "Not a component schema of this document" }, String(ref));
    const known = Object.hasOwn(schemas(), name);
    return el("a", {
      class: known ? "ref" : "ref missing",
      href: "#" + encodeURIComponent(schemaAnchor(name)),
      title: known ? (typeof schemas()[name].description === "string" ? schemas()[name].description : name) : `${name} is not in components.schemas`,
    }, name);
  }

  const jsonType = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v);
  const isNull = (s) => isObject(s) && (s.type === "null" || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === "null")) && Object.keys(s).every((k) => k === "type" || k === "description");

  /** The schema's own types (its `type`, or what its keywords imply). */
  function typesOf(s) {
    let types = Array.isArray(s.type) ? s.type.filter((t) => t !== "null").concat(s.type.filter((t) => t === "null")) : typeof s.type === "string" ? [s.type] : [];
    if (!types.length) {
      if (s.properties || s.additionalProperties !== undefined || s.patternProperties) types = ["object"];
      else if (s.items !== undefined || s.prefixItems) types = ["array"];
      else if (Array.isArray(s.enum)) types = [...new Set(s.enum.map(jsonType))];
      else if ("const" in s) types = [jsonType(s.const)];
    }
    if (s.nullable === true && !types.includes("null")) types.push("null");
    return types;
  }

  /** Whether a schema reads fully as its type label (no rows beneath). */
  function simple(s) {
    if (s === true || s === undefined) return true;
    if (!isObject(s)) return false;
    if (s.$ref) return true;
    if (s.properties || s.patternProperties || isObject(s.additionalProperties)) return false;
    if (s.oneOf || s.anyOf || s.allOf || s.not) return false;
    if (s.description || s.title || Array.isArray(s.enum) || "const" in s) return false;
    if (isObject(s.items)) return simple(s.items);
    return true;
  }

  const alternatives = (s) => (Array.isArray(s.oneOf) ? s.oneOf : Array.isArray(s.anyOf) ? s.anyOf : null);

  /** `a | b | c` of label parts. */
  const union = (parts) => parts.flatMap((p, i) => (i ? [" | ", ...p] : p));

  /**
   * The type of a schema as one line of nodes: `string <date-time> | null`,
   * `array of Alert`, `Window | null`, `one of`; `$ref`s as links.
   */
  function typeLabel(s, depth = 0) {
    if (s === true || s === undefined || (isObject(s) && !Object.keys(s).length)) return ["any"];
    if (s === false) return ["nothing"];
    if (!isObject(s)) return ["any"];
    if (depth > MAX_DEPTH) return ["…"];
    if (typeof s.$ref === "string") return [refLink(s.$ref)];
    const types = typesOf(s);
    const alts = alternatives(s);
    if (!types.length && alts && alts.every(simple)) {
      // `Window | null`: null last, as in `string | null`.
      const sorted = [...alts.filter((a) => !isNull(a)), ...alts.filter(isNull)];
      return union(sorted.map((a) => typeLabel(a, depth + 1)));
    }
    if (!types.length && Array.isArray(s.allOf) && s.allOf.length === 1 && !s.properties) return typeLabel(s.allOf[0], depth + 1);
    if (!types.length) {
      if (alts) return [s.oneOf ? "one of" : "any of"];
      if (s.allOf) return ["all of"];
      if (s.not) return ["not"];
      return ["any"];
    }
    let formatted = false;
    const parts = types.map((t) => {
      if (t === "array") {
        const items = s.items === undefined ? ["any"] : typeLabel(s.items, depth + 1);
        const grouped = items.includes(" | ") ? ["(", ...items, ")"] : items;
        return ["array of ", ...grouped];
      }
      if (t !== "null" && s.format && !formatted) {
        formatted = true;
        return [t, " ", el("span", { class: "format" }, `<${s.format}>`)];
      }
      return [t];
    });
    return union(parts);
  }

  const show = (v) => (typeof v === "string" ? v : JSON.stringify(v));
  const clip = (text, n = 240) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

  /** Constraints, enum values, default, examples: one line of chips. */
  function facts(s, prefix = "") {
    if (!isObject(s) || s.$ref) return [];
    const out = [];
    const fact = (label, ...value) => out.push(el("span", { class: "fact" }, prefix + label, value.length ? " " : null, value));
    if (Array.isArray(s.enum)) fact(s.enum.length === 1 ? "value" : "one of", s.enum.map((v) => el("code", { class: "value" }, show(v))));
    if ("const" in s) fact("always", el("code", { class: "value" }, show(s.const)));
    if ("default" in s) fact("default", el("code", { class: "value" }, show(s.default)));
    const bound = (key, sign) => {
      if (typeof s[key] === "number") fact(sign, el("code", {}, String(s[key])));
    };
    bound("minimum", "≥");
    bound("exclusiveMinimum", ">");
    bound("maximum", "≤");
    bound("exclusiveMaximum", "<");
    bound("multipleOf", "multiple of");
    bound("minLength", "length ≥");
    bound("maxLength", "length ≤");
    bound("minItems", "items ≥");
    bound("maxItems", "items ≤");
    bound("minProperties", "properties ≥");
    bound("maxProperties", "properties ≤");
    if (typeof s.pattern === "string") fact("pattern", el("code", {}, s.pattern));
    if (s.uniqueItems === true) fact("unique items");
    if (typeof s.contentMediaType === "string") fact("content", el("code", {}, s.contentMediaType));
    if (typeof s.contentEncoding === "string") fact("encoding", el("code", {}, s.contentEncoding));
    if (s.readOnly === true) fact("read-only");
    if (s.writeOnly === true) fact("write-only");
    if (isObject(s.discriminator) && typeof s.discriminator.propertyName === "string") fact("told apart by", el("code", {}, s.discriminator.propertyName));
    if (s.additionalProperties === false && s.properties) fact("no other properties");
    const examples = Array.isArray(s.examples) ? s.examples : "example" in s ? [s.example] : [];
    if (examples.length) fact(examples.length === 1 ? "example" : "examples", examples.map((v) => el("code", { class: "value" }, clip(show(v)))));
    if (isObject(s.items) && !s.items.$ref) out.push(...facts(s.items, "items "));
    return out;
  }

  const factLine = (s) => {
    const list = facts(s);
    return list.length ? el("div", { class: "facts" }, list) : null;
  };

  const flags = (s) => isObject(s) && s.deprecated === true ? el("span", { class: "tag deprecated" }, "deprecated") : null;

  /** One row of a schema tree: a property (or map value, or variant). */
  function row(name, s, { required = false, kind = "prop", depth = 0 } = {}) {
    return el("div", { class: `prop ${kind}` },
      el("div", { class: "prop-head" },
        el(kind === "variant" ? "span" : "code", { class: "name" }, name),
        el("span", { class: "type" }, typeLabel(s)),
        required ? el("span", { class: "tag required" }, "required") : null,
        flags(s)),
      isObject(s) ? markdown(s.description, "desc") : null,
      factLine(s),
      children(s, depth + 1));
  }

  /** What "any key" of a map is called: `{key}`, or its pattern. */
  const mapKey = (s) => (isObject(s.propertyNames) && typeof s.propertyNames.pattern === "string" ? `{key matching ${s.propertyNames.pattern}}` : "{any key}");

  /**
   * The rows beneath a schema: its properties, its map's values, its
   * items' properties, its variants. `$ref`s have none here: they are links.
   */
  function children(s, depth) {
    if (!isObject(s) || typeof s.$ref === "string") return null;
    if (depth > MAX_DEPTH) return el("div", { class: "props" }, el("div", { class: "prop more" }, "…"));
    const rows = [];
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    for (const [name, p] of entries(s.properties)) rows.push(row(name, p, { required: required.has(name), depth }));
    for (const [pattern, p] of entries(s.patternProperties)) rows.push(row(`{key matching ${pattern}}`, p, { kind: "map", depth }));
    if (isObject(s.additionalProperties)) rows.push(row(mapKey(s), s.additionalProperties, { kind: "map", depth }));
    // An array's rows are its items' (their constraints are in its facts);
    // so are a lone allOf's drawn in the label.
    const inlined = [s.items];
    if (Array.isArray(s.allOf) && s.allOf.length === 1 && !s.properties && !typesOf(s).length) inlined.push(s.allOf[0]);
    for (const inner of inlined.map((x) => (isObject(x) ? children(x, depth + 1) : null))) {
      if (inner) rows.push(...inner.childNodes);
    }
    if (Array.isArray(s.prefixItems)) s.prefixItems.forEach((p, i) => rows.push(row(`[${i}]`, p, { kind: "map", depth })));
    const alts = alternatives(s);
    const composed = [
      [alts, s.oneOf ? "one of" : "any of", !!typesOf(s).length || !alts?.every(simple)],
      [s.allOf, "all of", !(s.allOf?.length === 1 && !s.properties && !typesOf(s).length)],
    ];
    for (const [list, title, shown] of composed) {
      if (!Array.isArray(list) || !shown) continue;
      rows.push(el("div", { class: "variants-title" }, title));
      list.forEach((v, i) => {
        const only = isObject(v) && Array.isArray(v.enum) && v.enum.length === 1 ? v.enum : isObject(v) && "const" in v ? [v.const] : null;
        const label = isObject(v) && typeof v.title === "string" ? v.title : only ? show(only[0]) : `${i + 1}.`;
        rows.push(row(label, v, { kind: "variant", depth }));
      });
    }
    if (isObject(s.not)) rows.push(row("not", s.not, { kind: "variant", depth }));
    return rows.length ? el("div", { class: "props" }, rows) : null;
  }

  /** Description, facts and rows of a whole schema. */
  function schemaView(s, depth = 0) {
    return [markdown(isObject(s) ? s.description : null, "desc"), factLine(s), children(s, depth)];
  }

  /**
   * The component schema a body refers to (directly, as array items or as
   * a nullable ref), to offer its fields in place.
   */
  function referred(s) {
    if (!isObject(s)) return null;
    if (s.$ref) return schemaName(s.$ref);
    if (isObject(s.items)) return referred(s.items);
    const alts = alternatives(s);
    if (alts && !typesOf(s).length) {
      const named = alts.filter((a) => !isNull(a));
      if (named.length === 1) return referred(named[0]);
    }
    return null;
  }

  /** A closed "Fields of X" that draws X's tree (one level of it) when opened. */
  function expander(name) {
    if (!Object.hasOwn(schemas(), name)) return null;
    const details = el("details", { class: "expand" }, el("summary", {}, "Fields of ", el("code", {}, name)));
    details.addEventListener("toggle", () => {
      if (!details.open || details.dataset.drawn) return;
      details.dataset.drawn = "1";
      const view = schemaView(schemas()[name]).filter(Boolean);
      details.append(view.length ? el("div", { class: "inline-schema" }, view) : el("p", { class: "muted" }, "No fields."));
    });
    return details;
  }

  // ---- Operations -------------------------------------------------------

  /** A media type, its schema and examples. */
  function media(type, m) {
    const s = isObject(m) ? m.schema : undefined;
    const examples = [];
    if (isObject(m) && "example" in m) examples.push(["Example", m.example]);
    for (const [name, ex] of entries(m?.examples)) {
      const e = resolve(ex);
      if (isObject(e) && "value" in e) examples.push([e.summary || name, e.value]);
    }
    const name = referred(s);
    return el("div", { class: "media" },
      el("div", { class: "media-head" },
        el("code", { class: "media-type" }, type),
        s === undefined ? el("span", { class: "muted" }, "no schema") : el("span", { class: "type" }, typeLabel(s))),
      s === undefined ? null : schemaView(s),
      name ? expander(name) : null,
      examples.map(([label, value]) => el("details", { class: "example" },
        el("summary", {}, label),
        el("pre", {}, el("code", {}, typeof value === "string" ? value : JSON.stringify(value, null, 2))))));
  }

  /** The schema of a parameter or header (from `schema` or `content`). */
  const schemaOf = (p) => (p.schema !== undefined ? p.schema : Object.values(isObject(p.content) ? p.content : {})[0]?.schema);

  function parameterTable(parameters) {
    if (!parameters.length) return null;
    return el("div", { class: "block" },
      el("h4", {}, "Parameters"),
      el("table", { class: "params" },
        el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "In"), el("th", {}, "Type"), el("th", {}, "Description"))),
        el("tbody", {}, parameters.map((p) => {
          const s = schemaOf(p);
          return el("tr", { "data-param": p.name, "data-in": p.in },
            el("td", {}, el("code", { class: "name" }, String(p.name ?? "")), p.required ? el("span", { class: "tag required" }, "required") : null, flags(p)),
            el("td", { class: "muted" }, String(p.in ?? "")),
            el("td", {}, el("span", { class: "type" }, typeLabel(s)), factLine(s)),
            el("td", {}, markdown(p.description), isObject(s) && !s.$ref ? markdown(s.description, "desc") : null,
              "example" in p ? el("div", { class: "facts" }, el("span", { class: "fact" }, "example ", el("code", { class: "value" }, clip(show(p.example))))) : null));
        }))));
  }

  function headerTable(headers) {
    const list = entries(headers).map(([name, h]) => [name, resolve(h)]);
    if (!list.length) return null;
    return el("table", { class: "headers" },
      el("thead", {}, el("tr", {}, el("th", {}, "Header"), el("th", {}, "Type"), el("th", {}, "Description"))),
      el("tbody", {}, list.map(([name, h]) => el("tr", {},
        el("td", {}, el("code", { class: "name" }, name), h.required ? el("span", { class: "tag required" }, "required") : null),
        el("td", {}, el("span", { class: "type" }, typeLabel(schemaOf(h))), factLine(schemaOf(h))),
        el("td", {}, markdown(h.description))))));
  }

  function requestBody(op) {
    if (op.requestBody === undefined) return null;
    const body = resolve(op.requestBody);
    return el("div", { class: "block" },
      el("h4", {}, "Request body ", el("span", { class: body.required ? "tag required" : "tag" }, body.required ? "required" : "optional")),
      markdown(body.description),
      entries(body.content).map(([type, m]) => media(type, m)));
  }

  function statusClass(code) {
    const first = String(code)[0];
    return /^[1-5]$/.test(first) ? `s${first}xx` : "sdefault";
  }

  function responses(op) {
    const list = entries(op.responses);
    if (!list.length) return null;
    return el("div", { class: "block" },
      el("h4", {}, "Responses"),
      list.map(([code, raw]) => {
        const r = resolve(raw);
        const headers = headerTable(r.headers);
        const content = entries(r.content);
        return el("div", { class: "response", "data-status": code },
          el("div", { class: "response-head" },
            el("span", { class: `status ${statusClass(code)}` }, code),
            markdown(r.description, "response-desc") ?? el("div", { class: "md response-desc muted" }, "—")),
          headers ? el("div", { class: "response-part" }, headers) : null,
          content.length ? el("div", { class: "response-part" }, content.map(([type, m]) => media(type, m))) : null);
      }));
  }

  /** How an operation is authorised: alternatives of scheme sets. */
  function security(op) {
    const requirements = Array.isArray(op.security) ? op.security : Array.isArray(spec.security) ? spec.security : [];
    const needed = requirements.filter((r) => isObject(r) && Object.keys(r).length);
    if (!needed.length) return el("div", { class: "security open" }, el("span", { class: "lock" }, "No token needed"));
    const optional = needed.length < requirements.length;
    const alternativesShown = needed.map((r) => entries(r).flatMap(([name, scopes], i) => [
      i ? " and " : null,
      el("a", { class: "scheme", href: "#" + encodeURIComponent(`security-${name}`) }, schemeLabel(name)),
      Array.isArray(scopes) && scopes.length ? [" (", scopes.map((s, j) => [j ? ", " : null, el("code", {}, String(s))]), ")"] : null,
    ]));
    return el("div", { class: optional ? "security optional" : "security" },
      el("span", { class: "lock" }, optional ? "Token optional" : "Token required"), " ",
      alternativesShown.flatMap((a, i) => (i ? [" or ", ...a] : a)));
  }

  function schemeLabel(name) {
    const s = resolve(spec.components?.securitySchemes?.[name]);
    if (!isObject(s)) return name;
    if (s.type === "http" && String(s.scheme).toLowerCase() === "bearer") return `Bearer token (${name})`;
    if (s.type === "http") return `HTTP ${s.scheme} (${name})`;
    if (s.type === "apiKey") return `${apiKeyWhere(s)} (${name})`;
    return name;
  }

  /** The path with its `{parameters}` marked. */
  const pathNodes = (path) => path.split(/(\{[^}]+\})/).filter(Boolean).map((part) => (part.startsWith("{") ? el("span", { class: "path-param" }, part) : part));

  /** A word the shell reads as it is: in single quotes, `'` as `'\\''`. */
  const shellQuote = (text) => `'${String(text).replaceAll("'", "'\\''")}'`;

  /**
   * A parameter's example: its own `example` (or first of `examples`),
   * else its schema's (following `$ref`s); undefined without one.
   */
  function exampleOf(p) {
    if ("example" in p && p.example !== null) return p.example;
    for (const ex of Object.values(isObject(p.examples) ? p.examples : {})) {
      const e = resolve(ex);
      if (isObject(e) && "value" in e && e.value !== null) return e.value;
    }
    let s = schemaOf(p);
    for (let hops = 0; isObject(s) && hops < 8; hops++) {
      if ("example" in s && s.example !== null) return s.example;
      if (Array.isArray(s.examples) && s.examples.length && s.examples[0] !== null) return s.examples[0];
      if (typeof s.$ref !== "string") break;
      s = pointer(s.$ref);
    }
    return undefined;
  }

  /** `{code}` → `CODE`: a placeholder curl does not take for a glob. */
  const placeholder = (name) => String(name ?? "").toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "VALUE";
  /** A value in a URL: percent-encoded, but `,` and `:` left readable. */
  const urlPart = (v) => encodeURIComponent(v).replace(/%2C/gi, ",").replace(/%3A/gi, ":");
  const exampleText = (v) => (typeof v === "string" ? v : Array.isArray(v) ? v.map(exampleText).join(",") : isObject(v) ? JSON.stringify(v) : String(v));

  /**
   * An example URL of the operation: its path parameters filled with their
   * examples (or a placeholder such as `CODE`), its required query
   * parameters added the same way.
   */
  function exampleUrl(path, parameters) {
    const find = (name, where) => parameters.find((p) => p.in === where && p.name === name);
    const filled = path.replace(/\{([^}]*)\}/g, (_, name) => {
      const p = find(name, "path");
      const v = p ? exampleOf(p) : undefined;
      return v === undefined ? placeholder(name) : urlPart(exampleText(v));
    });
    const query = parameters.filter((p) => p.in === "query" && p.required && p.name !== undefined).flatMap((p) => {
      const v = exampleOf(p);
      const values = v === undefined ? [placeholder(p.name)] : Array.isArray(v) && p.explode !== false ? v.map(exampleText) : [exampleText(v)];
      return values.map((x) => `${urlPart(String(p.name))}=${urlPart(x)}`);
    });
    return `${location.origin}${filled}${query.length ? "?" + query.join("&") : ""}`;
  }

  /** An example command line for the operation. */
  function curl(method, path, op, parameters = []) {
    const requirements = Array.isArray(op.security) ? op.security : Array.isArray(spec.security) ? spec.security : [];
    const words = ["curl"];
    if (method !== "get") words.push(`-X ${method.toUpperCase()}`);
    // In double quotes, so that the shell puts the token in.
    if (requirements.some((r) => isObject(r) && Object.keys(r).length)) words.push(`-H "Authorization: Bearer $TOKEN"`);
    const body = op.requestBody === undefined ? null : resolve(op.requestBody);
    const type = body ? Object.keys(isObject(body.content) ? body.content : {})[0] : null;
    if (type) words.push(`-H ${shellQuote(`Content-Type: ${type}`)}`, `--data-binary @body.${type.includes("json") ? "json" : type.includes("csv") ? "csv" : "txt"}`);
    const url = exampleUrl(path, parameters);
    // Braces or brackets left in the URL would be curl's globs.
    if (/[[\]{}]/.test(url)) words.push("--globoff");
    words.push(shellQuote(url));
    return el("pre", { class: "curl" }, el("code", {}, words.join(" ")));
  }

  const usedIds = new Set();
  function uniqueId(base) {
    let id = base;
    for (let n = 2; usedIds.has(id) || document.getElementById(id); n++) id = `${base}-${n}`;
    usedIds.add(id);
    return id;
  }

  /**
   * A summary as shown: without a leading "`GET /path…`: " that repeats
   * the operation's head (the rest, its first letter capitalised).
   */
  function shownSummary(text) {
    if (typeof text !== "string") return text;
    const prefix = text.match(/^`(?:get|put|post|delete|options|head|patch|trace)\s+\/[^`]*`:\s+(?=\S)/i);
    if (!prefix) return text;
    return text.slice(prefix[0].length).replace(/^./su, (c) => c.toUpperCase());
  }

  function operationSection(method, path, item, op) {
    const id = uniqueId(typeof op.operationId === "string" && op.operationId ? `op-${op.operationId}` : `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`);
    // Path-level parameters, unless the operation redefines them.
    const own = (Array.isArray(op.parameters) ? op.parameters : []).map(resolve).filter(isObject);
    const shared = (Array.isArray(item.parameters) ? item.parameters : []).map(resolve).filter(isObject)
      .filter((p) => !own.some((o) => o.name === p.name && o.in === p.in));
    const order = { path: 0, query: 1, header: 2, cookie: 3 };
    const parameters = [...shared, ...own].sort((a, b) => (order[a.in] ?? 9) - (order[b.in] ?? 9));
    const written = op.summary || item.summary || "";
    const summary = shownSummary(written);
    const section = el("section", { class: op.deprecated ? "op deprecated" : "op", id, "data-method": method, "data-path": path, "data-operation-id": op.operationId ?? null },
      el("div", { class: "op-head" },
        el("span", { class: `method m-${method}` }, method.toUpperCase()),
        el("code", { class: "path" }, pathNodes(path)),
        op.deprecated ? el("span", { class: "tag deprecated" }, "deprecated") : null,
        el("a", { class: "anchor", href: "#" + encodeURIComponent(id), title: "Link to this operation", "aria-label": "Link to this operation" }, "#")),
      summary ? el("h3", { class: "summary" }, summary) : null,
      markdown(op.description || item.description),
      security(op),
      parameterTable(parameters),
      requestBody(op),
      responses(op),
      curl(method, path, op, parameters),
      typeof op.operationId === "string" ? el("div", { class: "op-id muted" }, "operationId ", el("code", {}, op.operationId)) : null);
    return { id, section, summary, written };
  }

  // ---- The page ---------------------------------------------------------

  function intro(info) {
    const facts = [];
    if (isObject(info.contact)) {
      const c = info.contact;
      facts.push(el("span", {}, "Contact: ", c.url ? link(c.name || c.url, c.url) : c.name || "", c.email ? [" ", ...link(`<${c.email}>`, `mailto:${c.email}`)] : null));
    }
    if (isObject(info.license)) facts.push(el("span", {}, "License: ", info.license.url ? link(info.license.name, info.license.url) : info.license.name || info.license.identifier));
    if (info.termsOfService) facts.push(el("span", {}, ...link("Terms of service", info.termsOfService)));
    if (isObject(spec.externalDocs) && spec.externalDocs.url) facts.push(el("span", {}, ...link(spec.externalDocs.description || "More documentation", spec.externalDocs.url)));
    const servers = (Array.isArray(spec.servers) ? spec.servers : []).filter((s) => isObject(s) && s.url);
    return el("section", { class: "intro", id: "overview" },
      markdown(info.summary),
      markdown(info.description),
      facts.length ? el("p", { class: "info-facts muted" }, facts.flatMap((f, i) => (i ? [" · ", f] : [f]))) : null,
      servers.length ? el("div", { class: "block" }, el("h4", {}, "Servers"), el("ul", { class: "servers" },
        servers.map((s) => el("li", {}, el("code", {}, s.url), s.description ? [" — ", ...inline(s.description)] : null)))) : null);
  }

  function securitySection() {
    const list = entries(spec.components?.securitySchemes).map(([name, s]) => [name, resolve(s)]);
    const global = Array.isArray(spec.security) ? spec.security : [];
    return el("section", { class: "auth", id: "authentication" },
      el("h2", {}, "Authentication"),
      list.length ? null : el("p", { class: "muted" }, "This document defines no security schemes."),
      list.map(([name, s]) => el("div", { class: "scheme-block", id: `security-${name}` },
        el("div", { class: "scheme-head" }, el("code", { class: "name" }, name), el("span", { class: "type" }, schemeKind(s))),
        markdown(s.description),
        isObject(s.flows) ? el("ul", {}, entries(s.flows).map(([flow, f]) => el("li", {}, el("code", {}, flow),
          entries(f.scopes).length ? [" — scopes: ", entries(f.scopes).map(([scope, d], i) => [i ? ", " : null, el("code", {}, scope), d ? ` (${d})` : null])] : null))) : null)),
      el("p", { class: "muted" }, global.some((r) => isObject(r) && Object.keys(r).length)
        ? "Operations without their own security use the document's: " : "Operations that list no security need no token.",
      global.some((r) => isObject(r) && Object.keys(r).length) ? security({}) : null));
  }

  /** Where an API key goes: `?token=`, a header, a cookie. */
  function apiKeyWhere(s) {
    if (s.in === "query") return `query parameter ?${s.name}=`;
    if (s.in === "header") return `header ${s.name}`;
    if (s.in === "cookie") return `cookie ${s.name}`;
    return `${s.in} ${s.name}`;
  }

  function schemeKind(s) {
    if (!isObject(s)) return "";
    if (s.type === "http") return [`HTTP ${s.scheme ?? ""}`, s.bearerFormat ? ` (${s.bearerFormat})` : "", String(s.scheme).toLowerCase() === "bearer" ? " — header Authorization: Bearer <token>" : ""].join("");
    if (s.type === "apiKey") return `API key: ${apiKeyWhere(s)}`;
    if (s.type === "openIdConnect") return `OpenID Connect (${s.openIdConnectUrl})`;
    return String(s.type ?? "");
  }

  function schemaSection() {
    const names = Object.keys(schemas()).sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base" }));
    const section = el("section", { class: "schemas", id: "schemas" }, el("h2", {}, "Schemas"));
    if (!names.length) section.append(el("p", { class: "muted" }, "This document defines no component schemas."));
    for (const name of names) {
      const s = schemas()[name];
      section.append(el("section", { class: "schema", id: schemaAnchor(name), "data-schema": name },
        el("div", { class: "schema-head" },
          el("h3", {}, name),
          el("span", { class: "type" }, typeLabel(s)),
          flags(s),
          el("a", { class: "anchor", href: "#" + encodeURIComponent(schemaAnchor(name)), title: "Link to this schema", "aria-label": "Link to this schema" }, "#")),
        schemaView(s)));
    }
    return [section, names];
  }

  function render() {
    const info = isObject(spec.info) ? spec.info : {};
    const title = info.title || "API";
    document.title = `${title} — API reference`;
    $("title").textContent = `${title} API reference`;
    if (info.version) Object.assign($("version"), { hidden: false, textContent: `v${info.version}` });
    if (spec.openapi) Object.assign($("openapi"), { hidden: false, textContent: `OpenAPI ${spec.openapi}` });

    // Tags in the document's order, then as operations first name them.
    const tagInfo = new Map();
    for (const t of Array.isArray(spec.tags) ? spec.tags : []) if (isObject(t) && t.name) tagInfo.set(t.name, t);
    const byTag = new Map([...tagInfo.keys()].map((name) => [name, []]));
    for (const [path, rawItem] of entries(spec.paths)) {
      const item = resolve(rawItem);
      for (const method of METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        const tags = Array.isArray(op.tags) && op.tags.length ? op.tags.map(String) : ["Other"];
        if (!byTag.has(tags[0])) byTag.set(tags[0], []);
        byTag.get(tags[0]).push({ method, path, item, op, tags });
      }
    }

    const main = $("main");
    const nav = $("nav");
    main.replaceChildren(intro(info), securitySection());
    const navList = el("ul", { class: "nav-tags" });
    nav.replaceChildren(el("a", { class: "nav-top", href: "#overview" }, "Overview"), el("a", { class: "nav-top", href: "#authentication" }, "Authentication"), navList);

    for (const [tag, ops] of byTag) {
      if (!ops.length) continue;
      const t = tagInfo.get(tag) ?? {};
      const groupId = uniqueId(`tag-${tag.replace(/\s+/g, "-")}`);
      const section = el("section", { class: "tag-group", id: groupId, "data-tag": tag },
        el("h2", {}, tag),
        markdown(t.description, "tag-desc"),
        isObject(t.externalDocs) && t.externalDocs.url ? el("p", {}, ...link(t.externalDocs.description || "More", t.externalDocs.url)) : null);
      const list = el("ul", { class: "nav-ops" });
      const navItem = el("li", { class: "nav-tag" }, el("a", { class: "nav-tag-name", href: "#" + encodeURIComponent(groupId) }, tag, el("span", { class: "nav-count" }, String(ops.length))), list);
      const group = { section, navItem, ops: [] };
      for (const o of ops) {
        const { id, section: opSection, summary, written } = operationSection(o.method, o.path, o.item, o.op);
        section.append(opSection);
        const entry = el("li", {}, el("a", { href: "#" + encodeURIComponent(id), title: summary || o.path, class: o.op.deprecated ? "deprecated" : null },
          el("span", { class: `method small m-${o.method}` }, o.method.toUpperCase()),
          el("span", { class: "nav-path" }, o.path)));
        list.append(entry);
        // The summary as written too: its "`GET /path?query`" still finds it.
        const haystack = [o.method, o.path, summary, written !== summary ? written : "", o.op.operationId ?? "", ...o.tags].map((s) => String(s).toLowerCase());
        const record = { section: opSection, navItem: entry, haystack };
        operations.push(record);
        group.ops.push(record);
      }
      groups.push(group);
      navList.append(navItem);
      main.append(section);
    }
    if (!operations.length) main.append(el("p", { class: "muted" }, "This document describes no operations."));
    main.append(el("p", { id: "no-match", class: "no-match", hidden: true }, "No operation matches the filter."));

    const [schemaBlock, names] = schemaSection();
    main.append(schemaBlock);
    if (names.length) {
      nav.append(el("details", { class: "nav-schemas" },
        el("summary", {}, "Schemas", el("span", { class: "nav-count" }, String(names.length))),
        el("ul", {}, names.map((n) => el("li", {}, el("a", { href: "#" + encodeURIComponent(schemaAnchor(n)) }, n))))));
    }
  }

  // ---- Filter and links -------------------------------------------------

  function applyFilter() {
    const terms = $("filter").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const o of operations) {
      const match = terms.every((t) => o.haystack.some((field) => field.includes(t)));
      o.section.hidden = !match;
      o.navItem.hidden = !match;
      if (match) shown++;
    }
    for (const g of groups) {
      const any = g.ops.some((o) => !o.section.hidden);
      g.section.hidden = !any;
      g.navItem.hidden = !any;
    }
    $("no-match").hidden = shown > 0 || !operations.length;
    $("count").textContent = terms.length ? `${shown} of ${operations.length} operations` : `${operations.length} operations`;
    document.body.classList.toggle("filtering", terms.length > 0);
  }

  function targetOfHash() {
    if (location.hash.length < 2) return null;
    let id = location.hash.slice(1);
    try {
      id = decodeURIComponent(id);
    } catch { /* as written */ }
    return document.getElementById(id);
  }

  /** Shows the element the address names (clearing a filter that hides it). */
  function followHash(scroll) {
    const target = targetOfHash();
    if (!target) return;
    if (target.closest("[hidden]") && $("filter").value) {
      $("filter").value = "";
      applyFilter();
    }
    const details = target.closest("details");
    if (details) details.open = true;
    if (scroll) target.scrollIntoView({ block: "start" });
    for (const old of document.querySelectorAll(".flash")) old.classList.remove("flash");
    target.classList.add("flash");
  }

  function wire() {
    const filter = $("filter");
    filter.disabled = false;
    filter.addEventListener("input", () => {
      applyFilter();
      // The results start at the top of the page.
      if (filter.value.trim()) window.scrollTo(0, 0);
    });
    filter.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        filter.value = "";
        applyFilter();
      }
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "/" && document.activeElement !== filter && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName ?? "")) {
        e.preventDefault();
        filter.focus();
        filter.select();
      }
    });
    window.addEventListener("hashchange", () => followHash(false));
    applyFilter();
    followHash(true);
  }

  async function start() {
    if (token) {
      // The token goes along to the document and to the other pages.
      const query = `?token=${encodeURIComponent(token)}`;
      $("raw").href = SOURCE + query;
      $("wall-link").href = "/" + query;
      $("rankings-link").href = "/rankings" + query;
    }
    const fail = (title, ...why) => {
      $("main").replaceChildren(el("div", { id: "error", class: "error", role: "alert" },
        el("h2", {}, title), why,
        el("button", { type: "button", onclick: () => location.reload() }, "Try again")));
      document.body.dataset.state = "error";
    };
    try {
      spec = await load();
    } catch (e) {
      fail("The API description could not be loaded",
        el("p", {}, "Reading ", el("code", {}, SOURCE), " failed: ", e.message),
        el("p", { class: "muted" }, token ? "Check that the server is running and that the token is valid."
          : "Check that the server is running; if reads need a token, open this page with ?token=<viewer token>."));
      return;
    }
    try {
      render();
    } catch (e) {
      console.warn(e);
      fail("The API description could not be shown",
        el("p", {}, el("code", {}, SOURCE), " was read, but this page could not lay it out: ", String(e?.message ?? e)),
        el("p", {}, "The document itself is still at ", el("a", { href: $("raw").href }, SOURCE), "."));
      return;
    }
    wire();
    document.body.dataset.state = "ready";
  }

  start();
})();
