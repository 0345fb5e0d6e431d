// The emulator's inspector. Plain browser JavaScript, no build step, no dependencies.
//
// Safety rule for this file: every value that comes from the emulator (and so from whoever
// posted an event) reaches the page through textContent or createElement, never through
// HTML parsing. The page's Content-Security-Policy is the second line of defence.
(() => {
  "use strict";

  const MAX_ROWS = 500;
  const EVENT_TYPES = ["identify", "delete", "track", "page", "screen", "group", "alias"];
  const NESTED_HOPS = new Set(["receive", "auth", "mapping", "refersion", "answer"]);

  const state = {
    events: new Map(), // trace id → summary
    outcomes: new Map(), // outcome → {description, final}
    seenTypes: new Set(EVENT_TYPES),
    tab: "events",
    selected: null, // trace id shown in the trace pane
    trace: null, // the full trace shown
    openSections: new Set(), // keys of <details> the user opened, kept across refreshes
    syncing: false,
    buffered: [],
    faultsAvailable: null,
  };

  // ---------------------------------------------------------------- DOM helpers

  /** createElement with properties and children; strings become text nodes. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  const $ = (id) => document.getElementById(id);

  function toast(message) {
    const box = $("toast");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 2500);
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  async function api(path, options) {
    const response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    return { status: response.status, ok: response.ok, body };
  }

  function errorText(result) {
    const body = result.body || {};
    return body.message || body.error || `HTTP ${result.status}`;
  }

  // ---------------------------------------------------------------- formatting

  function traceNumber(id) {
    const n = parseInt(String(id).replace(/\D+/g, ""), 10);
    return Number.isFinite(n) ? n : 0;
  }

  function clock(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso || "");
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  }

  function outcomeClass(outcome) {
    return state.outcomes.has(outcome) || /^[a-z_]+$/.test(outcome || "") ? `badge-${outcome}` : "badge-other";
  }

  function badge(outcome) {
    const info = state.outcomes.get(outcome);
    return el("span", {
      class: `badge ${outcomeClass(outcome)}`,
      title: info ? info.description : null,
      text: outcome || "?",
    });
  }

  function dash(value) {
    return value === null || value === undefined || value === "" ? "—" : String(value);
  }

  // ---------------------------------------------------------------- JSON with pointers

  function escapeToken(token) {
    return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
  }

  function resolvePointer(doc, pointer) {
    if (pointer === "") return { found: true, value: doc };
    let value = doc;
    for (const raw of pointer.split("/").slice(1)) {
      const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      if (value !== null && typeof value === "object" && Object.prototype.hasOwnProperty.call(value, token)) {
        value = value[token];
      } else {
        return { found: false };
      }
    }
    return { found: true, value };
  }

  // Pretty-printed JSON as DOM nodes, appended into `parent`. Each value whose pointer is a
  // key of `marks` (pointer → explanation) is wrapped in a <mark> carrying data-pointer.
  function jsonInto(parent, v, pointer, indent, marks) {
    let out = parent;
    if (marks && marks.has(pointer)) {
      out = el("mark", { class: "violation-hl", dataset: { pointer }, title: marks.get(pointer) });
      parent.append(out);
    }
    if (v === null) out.append(el("span", { class: "j-null", text: "null" }));
    else if (typeof v === "string") out.append(el("span", { class: "j-str", text: JSON.stringify(v) }));
    else if (typeof v === "number") out.append(el("span", { class: "j-num", text: String(v) }));
    else if (typeof v === "boolean") out.append(el("span", { class: "j-bool", text: String(v) }));
    else if (Array.isArray(v)) {
      if (!v.length) { out.append("[]"); return; }
      out.append("[\n");
      v.forEach((item, i) => {
        out.append(" ".repeat(indent + 2));
        jsonInto(out, item, `${pointer}/${i}`, indent + 2, marks);
        out.append(i < v.length - 1 ? ",\n" : "\n");
      });
      out.append(" ".repeat(indent) + "]");
    } else if (typeof v === "object") {
      const keys = Object.keys(v);
      if (!keys.length) { out.append("{}"); return; }
      out.append("{\n");
      keys.forEach((key, i) => {
        out.append(" ".repeat(indent + 2), el("span", { class: "j-key", text: JSON.stringify(key) }), ": ");
        jsonInto(out, v[key], `${pointer}/${escapeToken(key)}`, indent + 2, marks);
        out.append(i < keys.length - 1 ? ",\n" : "\n");
      });
      out.append(" ".repeat(indent) + "}");
    } else {
      out.append(String(v));
    }
  }

  function json(value, marks) {
    const pre = el("pre", { class: "json" });
    jsonInto(pre, value, "", 0, marks);
    return pre;
  }

  // ---------------------------------------------------------------- event list

  function upsert(summary) {
    if (!summary || typeof summary.id !== "string") return;
    state.events.set(summary.id, summary);
    if (typeof summary.type === "string") state.seenTypes.add(summary.type);
    if (state.events.size > MAX_ROWS) {
      const oldest = [...state.events.keys()].sort((a, b) => traceNumber(a) - traceNumber(b));
      for (const id of oldest.slice(0, state.events.size - MAX_ROWS)) state.events.delete(id);
    }
    if (summary.id === state.selected) refreshTrace();
  }

  function filters() {
    return {
      type: $("filter-type").value,
      outcome: $("filter-outcome").value,
      text: $("filter-text").value.trim().toLowerCase(),
    };
  }

  function matches(summary, f) {
    if (f.type && summary.type !== f.type) return false;
    if (f.outcome && summary.outcome !== f.outcome) return false;
    if (!f.text) return true;
    const haystack = [summary.id, summary.type, shownUserId(summary), summary.email, summary.messageId, summary.outcome, summary.reason]
      .filter((v) => typeof v === "string")
      .join("\n")
      .toLowerCase();
    return haystack.includes(f.text);
  }

  let renderQueued = false;
  function renderEvents() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      drawEvents();
    });
  }

  function drawEvents() {
    syncTypeOptions();
    const f = filters();
    const all = [...state.events.values()].sort((a, b) => traceNumber(b.id) - traceNumber(a.id));
    const shown = all.filter((s) => matches(s, f));
    const rows = shown.map((s) => el("tr", {
      class: `event-row${s.id === state.selected ? " selected" : ""}`,
      dataset: { id: s.id, outcome: s.outcome || "" },
      tabindex: "0",
      onclick: () => select(s.id),
      onkeydown: (e) => { if (e.key === "Enter") select(s.id); },
    },
      el("td", { class: "mono muted", title: s.createdAt, text: clock(s.createdAt) }),
      el("td", { class: "c-type", text: dash(s.type) }),
      el("td", { class: "c-user mono", title: shownUserId(s), text: dash(shownUserId(s)) }),
      el("td", { class: "c-email", title: s.email, text: dash(s.email) }),
      el("td", { class: "c-outcome" }, badge(s.outcome), s.reason ? el("span", { class: "reason", title: s.reason, text: s.reason }) : null),
      el("td", { class: "c-tries num", text: String(s.attempts || 0) }),
      el("td", { class: "c-violations num" }, s.violations ? el("span", { class: "warn-count", text: String(s.violations) }) : ""),
    ));
    clear($("event-rows")).append(...rows);
    $("shown-count").textContent = shown.length === all.length ? `${all.length} events` : `${shown.length} of ${all.length}`;
    $("count-events").textContent = all.length ? String(all.length) : "";
    const empty = $("events-empty");
    empty.hidden = all.length > 0 && shown.length > 0;
    clear(empty);
    if (!all.length) {
      empty.append(
        el("p", { text: "No events yet. Point a Segment client at this emulator, or try:" }),
        el("pre", { class: "example", text: exampleCurl() }),
      );
    } else if (!shown.length) {
      empty.append(el("p", { text: "No event matches these filters." }));
    }
  }

  function exampleCurl() {
    return `curl -s ${location.origin}/v1/identify -H 'Content-Type: application/json' -d '{\n` +
      `  "writeKey": "test", "userId": "user-1",\n` +
      `  "traits": {"name": "Peter Gibbons", "email": "peter@example.com"}}'`;
  }

  function syncTypeOptions() {
    const select = $("filter-type");
    const have = new Set([...select.options].map((o) => o.value));
    for (const type of [...state.seenTypes].sort()) {
      if (!have.has(type)) select.append(el("option", { value: type, text: type }));
    }
  }

  function fillOutcomeOptions() {
    const select = $("filter-outcome");
    for (const [name, info] of state.outcomes) {
      select.append(el("option", { value: name, title: info.description, text: name }));
    }
  }

  async function resync() {
    state.syncing = true;
    state.buffered = [];
    try {
      const result = await api(`/_emulator/events?limit=${MAX_ROWS}`);
      if (result.ok && result.body && Array.isArray(result.body.events)) {
        state.events.clear();
        for (const summary of result.body.events) upsert(summary);
      }
    } finally {
      state.syncing = false;
      // Stream updates that arrived meanwhile are at least as new as the list: apply them last.
      for (const summary of state.buffered) upsert(summary);
      state.buffered = [];
      renderEvents();
      refreshVisiblePanel();
    }
  }

  // ---------------------------------------------------------------- live stream

  function connect() {
    const live = $("live");
    const source = new EventSource("/_emulator/stream");
    const setLive = (on, text) => {
      live.className = `live ${on ? "on" : "off"}`;
      live.textContent = text;
    };
    source.addEventListener("hello", () => { setLive(true, "● live"); resync(); });
    source.addEventListener("trace", (e) => {
      let summary;
      try { summary = JSON.parse(e.data); } catch (_) { return; }
      if (state.syncing) state.buffered.push(summary);
      else { upsert(summary); renderEvents(); refreshVisiblePanelSoon(); }
    });
    source.addEventListener("resync", () => resync());
    source.addEventListener("ping", (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch (_) { return; }
      // Fewer events on the server than shown here: someone reset the emulator.
      if (typeof data.events === "number" && data.events < state.events.size) resync();
    });
    source.addEventListener("error", () => setLive(false, "○ reconnecting…"));
  }

  // ---------------------------------------------------------------- trace view

  function select(id) {
    location.hash = `#/events/${encodeURIComponent(id)}`;
  }

  const refreshTrace = debounce(() => { if (state.selected) loadTrace(state.selected); }, 120);

  async function loadTrace(id) {
    const pane = $("trace");
    const result = await api(`/_emulator/events/${encodeURIComponent(id)}`);
    if (id !== state.selected) return;
    if (!result.ok) {
      state.trace = null;
      clear(pane).append(el("p", { class: "placeholder", text: `Event ${id}: ${errorText(result)}` }));
      return;
    }
    state.trace = result.body;
    const scroll = pane.scrollTop;
    clear(pane).append(renderTrace(result.body));
    pane.scrollTop = scroll;
  }

  function details(key, summaryText, content, openByDefault) {
    const node = el("details", { class: "section" }, el("summary", { text: summaryText }), content);
    node.open = state.openSections.has(key) || (openByDefault && !state.openSections.has(`closed:${key}`));
    node.addEventListener("toggle", () => {
      if (node.open) { state.openSections.add(key); state.openSections.delete(`closed:${key}`); }
      else { state.openSections.delete(key); state.openSections.add(`closed:${key}`); }
    });
    return node;
  }

  function renderTrace(trace) {
    const violations = Array.isArray(trace.violations) ? trace.violations : [];
    const hops = Array.isArray(trace.hops) ? trace.hops : [];
    const mappingHop = hops.find((h) => h.name === "mapping");
    const rejection = mappingHop && mappingHop.detail && mappingHop.detail.kind === "rejection" ? mappingHop.detail : null;
    return el("article", { class: "trace", dataset: { id: trace.id } },
      el("div", { class: "trace-head" },
        el("h2", {}, el("span", { class: "mono", text: trace.id }), " ", el("span", { text: dash(trace.type) }), " ", badge(trace.outcome)),
        el("div", { class: "buttons" },
          el("button", { type: "button", id: "copy-fixture", title: "A fixture file (see README › Fixtures) that replays this event and expects this outcome", onclick: () => copyText(fixtureFor(trace), "fixture") }, "Copy as fixture"),
          el("button", { type: "button", id: "copy-curl", title: "Replays this message through POST /_emulator/deliver (same messageId: reset first, or it is dropped as a duplicate)", onclick: () => copyText(curlFor(trace), "curl command") }, "Copy as curl"),
        ),
      ),
      el("dl", { class: "facts" },
        fact("userId", shownUserId(trace)), fact("email", trace.email), fact("messageId", trace.messageId),
        fact("entered", trace.entry), fact("accepted", trace.createdAt), fact("attempts", trace.attempts),
        trace.reason ? fact("reason", trace.reason) : null,
        trace.nextAttemptAt ? fact("next attempt", new Date(trace.nextAttemptAt * 1000).toLocaleTimeString()) : null,
      ),
      rejection ? el("div", { class: "callout bad" },
        el("strong", { text: `Rejected: ${rejection.reason}` }), " ", el("span", { text: rejection.message || "" }),
        rejection.fix ? el("div", { class: "fix" }, el("strong", { text: "Fix: " }), el("span", { text: rejection.fix })) : null,
      ) : null,
      violations.length ? el("div", { class: "callout warn", id: "violation-summary" },
        el("strong", { text: `${violations.length} contract violation${violations.length === 1 ? "" : "s"}` }),
        el("ul", {}, distinctViolations(violations).map(([v, times]) => el("li", {},
          el("span", { class: "mono", text: v.contract }), " at ", el("code", { text: v.pointer || "/" }), ` (${v.rule}): `, el("span", { text: v.message }),
          times > 1 ? el("span", { class: "muted", text: ` ×${times}` }) : null,
        ))),
      ) : null,
      renderAssumptions(trace),
      el("h3", { text: "Timeline" }),
      el("ol", { class: "timeline" }, hops.map((hop, i) => renderHop(trace, hop, i, hops))),
      el("h3", { text: "Segment message" }),
      json(trace.message),
    );
  }

  // The registry assumptions this event relied on (docs/assumptions.md), each with the variant
  // in force and, where known, what another variant would have done. Warnings come first.
  function renderAssumptions(trace) {
    const notes = Array.isArray(trace.assumptions) ? trace.assumptions : [];
    if (!notes.length) return null;
    const sorted = [...notes].sort((a, b) => Number(Boolean(b.warning)) - Number(Boolean(a.warning)));
    const warned = notes.some((n) => n.warning);
    return el("div", { class: `callout ${warned ? "warn" : "info"}`, id: "assumptions" },
      el("strong", { text: `Assumed (${notes.length})` }),
      el("span", { class: "muted", text: " — what no public source states; switch with --assume or PUT /_emulator/assumptions" }),
      el("ul", {}, sorted.map((n) => el("li", { class: n.warning ? "assumption-warning" : "" },
        n.warning ? el("strong", { text: "⚠ " }) : null,
        el("code", { text: `${n.id}=${n.variant}` }), ": ", el("span", { text: n.note || "" }),
        n.alternative ? el("span", { class: "muted", text: `; otherwise ${n.alternative}` }) : null,
      ))),
    );
  }

  // The same finding reported at several hops (the message is checked when routed and when
  // received) is listed once, with how often it was found.
  function distinctViolations(violations) {
    const seen = new Map();
    for (const v of violations) {
      const key = JSON.stringify([v.contract, v.pointer, v.rule, v.message]);
      const entry = seen.get(key);
      if (entry) entry[1] += 1;
      else seen.set(key, [v, 1]);
    }
    return [...seen.values()];
  }

  // userId is a string or null; a message that carried another kind of id (a number, say)
  // has it in userIdNotString, shown as sent.
  function shownUserId(summary) {
    if (typeof summary.userId === "string") return summary.userId;
    return summary.userIdNotString === undefined ? null : `${JSON.stringify(summary.userIdNotString)} (not a string)`;
  }

  function fact(label, value) {
    return [el("dt", { text: label }), el("dd", { class: "mono", text: dash(value) })];
  }

  function hopOffset(hop, first) {
    const a = Date.parse(first && first.at);
    const b = Date.parse(hop.at);
    if (Number.isNaN(a) || Number.isNaN(b)) return "";
    return `+${b - a} ms`;
  }

  function insideAttempt(hops, index) {
    if (!NESTED_HOPS.has(hops[index].name)) return false;
    for (let i = index - 1; i >= 0; i--) {
      if (hops[i].name === "delivery") return true;
      if (!NESTED_HOPS.has(hops[i].name)) return false;
    }
    return false;
  }

  function renderHop(trace, hop, index, hops) {
    const detail = hop.detail && typeof hop.detail === "object" ? hop.detail : {};
    const tone = hop.ok === true ? "ok" : hop.ok === false ? "fail" : "neutral";
    const icon = hop.ok === true ? "✓" : hop.ok === false ? "✗" : "•";
    const chips = [];
    if (hop.name === "delivery" || hop.name === "refersion") {
      const response = detail.response || {};
      if (response.status !== undefined && response.status !== null) chips.push(chip(`HTTP ${response.status}`, response.status < 300 ? "ok" : "bad"));
      if (response.error) chips.push(chip(response.error, "bad"));
      if (typeof detail.latencyMs === "number") chips.push(chip(`${detail.latencyMs} ms`));
      if (detail.classification) chips.push(chip(detail.classification, /retry/.test(detail.classification) ? "retry" : detail.classification === "delivered" ? "ok" : "bad"));
    }
    if (hop.name === "answer" && detail.status !== undefined) chips.push(chip(`HTTP ${detail.status}`, detail.status < 300 ? "ok" : "bad"));
    const key = `${trace.id}:${index}`;
    return el("li", { class: `hop hop-${tone}${insideAttempt(hops, index) ? " nested" : ""}`, dataset: { hop: hop.name } },
      el("div", { class: "hop-head" },
        el("span", { class: "hop-icon", text: icon }),
        el("span", { class: "hop-name", text: hop.name }),
        el("span", { class: "hop-summary", text: hop.summary || "" }),
        chips,
        el("span", { class: "hop-time muted", title: hop.at, text: hopOffset(hop, hops[0]) }),
      ),
      hopBody(trace, hop, detail, key),
      renderViolations(trace, hop, key),
    );
  }

  function chip(text, tone) {
    return el("span", { class: `chip${tone ? ` chip-${tone}` : ""}`, text });
  }

  function hopBody(trace, hop, detail, key) {
    const failed = hop.ok === false;
    const parts = [];
    if (hop.name === "mapping") parts.push(mappingBody(detail, key));
    else if (hop.name === "delivery" || hop.name === "refersion") {
      if (detail.request) parts.push(details(`${key}:req`, `request${detail.request.url ? ` → ${detail.request.url}` : ""}`, requestView(detail.request), false));
      if (detail.response) parts.push(details(`${key}:res`, `response${detail.response.status ? ` ${detail.response.status}` : ""}`, json(detail.response.body === undefined ? detail.response : detail.response.body), failed));
    } else if (hop.name === "answer") {
      if (detail.body !== undefined) parts.push(details(`${key}:body`, "answer body", json(detail.body), failed));
    } else if (hop.name === "ingest" && detail.raw !== undefined) {
      parts.push(details(`${key}:raw`, "as received", json(detail.raw), false));
    } else if (Object.keys(detail).length) {
      parts.push(details(`${key}:detail`, "detail", json(detail), failed));
    }
    return parts.length ? el("div", { class: "hop-body" }, parts) : null;
  }

  function requestView(request) {
    const view = el("div");
    if (request.headers) view.append(el("div", { class: "label", text: "headers" }), json(request.headers));
    if (request.body !== undefined) view.append(el("div", { class: "label", text: "body" }), json(request.body));
    return view;
  }

  function mappingBody(detail, key) {
    const parts = [];
    if (detail.kind === "rejection") {
      parts.push(el("div", { class: "rejection" },
        el("div", {}, el("strong", { text: "reason " }), el("code", { text: dash(detail.reason) }),
          detail.field !== undefined && detail.field !== null ? [" at ", el("code", { text: detail.field || "/" })] : null),
        el("div", { text: detail.message || "" }),
        detail.fix ? el("div", { class: "fix" }, el("strong", { text: "Fix: " }), el("span", { text: detail.fix })) : null,
      ));
    } else if (detail.endpoint) {
      parts.push(details(`${key}:body`, `POST /${detail.endpoint} body`, json(detail.body), false));
    }
    const warnings = Array.isArray(detail.warnings) ? detail.warnings : [];
    if (warnings.length) {
      parts.push(el("ul", { class: "warnings" }, warnings.map((w) => el("li", {},
        el("span", { class: "chip chip-retry", text: dash(w.code) }), " ",
        w.field ? el("code", { text: w.field }) : null, " ", el("span", { text: w.message || "" }),
      ))));
    }
    const lineage = Array.isArray(detail.lineage) ? detail.lineage : [];
    if (lineage.length) {
      parts.push(el("table", { class: "lineage" },
        el("thead", {}, el("tr", {}, el("th", { text: "Segment field" }), el("th", { text: "Refersion field" }), el("th", { text: "rule" }), el("th", { text: "value" }))),
        el("tbody", {}, lineage.map((entry) => el("tr", {},
          el("td", { class: "mono", text: dash(entry.source) }),
          el("td", { class: "mono", text: dash(entry.target) }),
          el("td", { text: dash(entry.rule) }),
          el("td", { class: "mono", text: typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value) }),
        ))),
      ));
    }
    return parts;
  }

  // The document a violation was found in: the hop's own bodies, else the Segment message.
  function violationDocument(trace, hop, violation) {
    const detail = hop.detail || {};
    const contract = String(violation.contract || "");
    if (contract.startsWith("segment/")) return detail.raw !== undefined ? detail.raw : trace.message;
    if (contract.endsWith(".request")) return detail.request ? detail.request.body : undefined;
    if (detail.response && detail.response.body !== undefined) return detail.response.body;
    return detail.body;
  }

  // One card per contract a hop broke: each violation listed, and the checked document with
  // every offending value highlighted at its JSON Pointer.
  function renderViolations(trace, hop, key) {
    const byContract = new Map();
    for (const v of Array.isArray(hop.violations) ? hop.violations : []) {
      const contract = String(v.contract || "?");
      if (!byContract.has(contract)) byContract.set(contract, []);
      byContract.get(contract).push(v);
    }
    return [...byContract].map(([contract, violations], i) => {
      const doc = violationDocument(trace, hop, violations[0]);
      const marks = new Map();
      const unlocated = [];
      for (const v of violations) {
        const pointer = typeof v.pointer === "string" ? v.pointer : "";
        if (doc !== undefined && resolvePointer(doc, pointer).found) {
          marks.set(pointer, [marks.get(pointer), `${v.rule}: ${v.message}`].filter(Boolean).join("\n"));
        } else {
          unlocated.push(v);
        }
      }
      return el("div", { class: "violation", dataset: { contract } },
        el("div", { class: "violation-head" },
          el("span", { class: "chip chip-bad", text: "contract violation" }), " ", el("span", { class: "mono", text: contract })),
        el("ul", { class: "violation-list" }, violations.map((v) => el("li", {},
          el("code", { text: v.pointer || "/" }), " · ", el("code", { text: dash(v.rule) }), " · ", el("span", { text: v.message || "" })))),
        marks.size ? details(`${key}:v${i}`, "offending values in the checked document", json(doc, marks), true) : null,
        unlocated.map((v) => details(`${key}:v${i}:${v.pointer}`, `value at ${v.pointer || "/"}`, json(v.value, new Map([["", v.message || ""]])), true)),
      );
    });
  }

  // ---------------------------------------------------------------- copy buttons

  function fixtureFor(trace) {
    const contracts = [...new Set((trace.violations || []).map((v) => v.contract))].sort();
    const fixture = {
      description: `${dash(trace.type)} from the inspector (trace ${trace.id}): ${trace.outcome}${trace.reason ? ` (${trace.reason})` : ""}`,
      source: `refersion-emulator inspector, ${trace.createdAt}`,
      entry: trace.entry === "tracking-api" ? "tracking-api" : "delivery",
      events: [trace.message],
    };
    const final = state.outcomes.has(trace.outcome) ? state.outcomes.get(trace.outcome).final : true;
    if (final) {
      fixture.expect = { outcomes: [trace.outcome], reasons: [trace.reason ?? null], violations: contracts };
    }
    return `${JSON.stringify(fixture, null, 2)}\n`;
  }

  function shellQuote(text) {
    return `'${text.replace(/'/g, "'\\''")}'`;
  }

  function curlFor(trace) {
    return `curl -s ${location.origin}/_emulator/deliver -H 'Content-Type: application/json' -d ${shellQuote(JSON.stringify(trace.message))}\n`;
  }

  async function copyText(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      toast(`Copied ${what} to the clipboard`);
    } catch (_) {
      // No clipboard permission: show the text so it can be copied by hand.
      const area = el("textarea", { class: "copy-area", rows: "8", readonly: true });
      area.value = text;
      const box = el("div", { class: "callout" }, el("div", { text: `Copy the ${what}:` }), area);
      $("trace").prepend(box);
      area.select();
    }
  }

  // ---------------------------------------------------------------- affiliates

  const AFFILIATE_COLUMNS = ["id", "code", "first_name", "last_name", "email", "unique_merchant_id", "status", "country", "zip", "city", "company", "phone"];

  async function loadAffiliates() {
    const result = await api("/_emulator/affiliates");
    const table = clear($("affiliates-table"));
    if (!result.ok) { table.append(el("caption", { text: errorText(result) })); return; }
    const items = Array.isArray(result.body.affiliates) ? result.body.affiliates : [];
    $("count-affiliates").textContent = items.length ? String(items.length) : "";
    $("affiliates-empty").hidden = items.length > 0;
    if (!items.length) return;
    const seen = new Set(items.flatMap((a) => Object.keys(a)));
    const columns = AFFILIATE_COLUMNS.filter((c) => seen.has(c));
    const rest = [...seen].filter((c) => !columns.includes(c)).sort();
    const all = [...columns, ...rest];
    table.append(
      el("thead", {}, el("tr", {}, all.map((c) => el("th", { text: c })))),
      el("tbody", {}, items.map((a) => el("tr", { class: "affiliate-row" }, all.map((c) => el("td", {
        class: typeof a[c] === "number" ? "num" : null,
        text: a[c] === null || a[c] === undefined ? "" : typeof a[c] === "object" ? JSON.stringify(a[c]) : String(a[c]),
      }))))),
    );
  }

  // ---------------------------------------------------------------- faults

  async function loadFaults() {
    const result = await api("/_emulator/faults");
    const table = clear($("faults-table"));
    const status = $("faults-status");
    const form = $("fault-form");
    state.faultsAvailable = result.status !== 404;
    if (!state.faultsAvailable) {
      status.textContent = "Fault injection is not available in this emulator (GET /_emulator/faults answered 404).";
      form.hidden = true;
      return;
    }
    form.hidden = false;
    if (!result.ok) { status.textContent = errorText(result); return; }
    const rules = Array.isArray(result.body && result.body.rules) ? result.body.rules : [];
    // A rule limited to N firings that has fired N times stays listed, but no longer applies.
    const usedUp = (r) => r && r.remaining === 0;
    const active = rules.filter((r) => !usedUp(r)).length;
    const spent = rules.length - active;
    $("count-faults").textContent = active ? String(active) : "";
    status.textContent = rules.length
      ? `${active} active rule${active === 1 ? "" : "s"}${spent ? `, ${spent} used up` : ""}; ` +
        (active ? "matching calls get the fault instead of the real answer." : "every call gets the real answer.")
      : "No fault rules: every call gets the real answer.";
    if (!rules.length) return;
    table.append(
      el("thead", {}, el("tr", {}, ["#", "surface", "endpoint", "effect", "applies", "rule"].map((c) => el("th", { text: c })))),
      el("tbody", {}, rules.map((rule, i) => {
        const r = rule && typeof rule === "object" ? rule : {};
        const when = [];
        if (usedUp(r)) when.push(`used up: fired ${r.fired} of ${r.times}`);
        else if (r.times !== undefined && r.times !== null) when.push(`next ${r.remaining ?? r.times} of ${r.times}`);
        if (r.probability !== undefined && r.probability !== null && r.probability !== 1) when.push(`p = ${r.probability}`);
        return el("tr", { class: `fault-row${usedUp(r) ? " used-up" : ""}`, dataset: { state: usedUp(r) ? "used-up" : "active" } },
          el("td", { class: "num", text: String(i + 1) }),
          el("td", { text: dash(r.surface) }),
          el("td", { class: "mono", text: dash(r.endpoint) }),
          el("td", { class: "mono", text: r.effect === undefined ? "—" : JSON.stringify(r.effect) }),
          el("td", { text: when.length ? when.join(", ") : "always" }),
          el("td", { class: "mono muted", text: dash(r.spec) }),
        );
      })),
    );
  }

  async function addFault(event) {
    event.preventDefault();
    const error = $("fault-error");
    error.textContent = "";
    // The effect is JSON ({"status": 503}) or the compact form of serve --fault ("503", "reset").
    const text = $("fault-fault").value.trim();
    let effect;
    try { effect = JSON.parse(text); } catch (e) { effect = text; }
    const rule = { surface: $("fault-target").value, endpoint: $("fault-endpoint").value.trim() || "*", effect };
    const limit = Number($("fault-limit").value);
    rule[$("fault-limit-kind").value] = limit;
    const result = await api("/_emulator/faults", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(rule),
    });
    if (!result.ok) { error.textContent = errorText(result); return; }
    toast("Fault rule added");
    loadFaults();
  }

  async function clearFaults() {
    const result = await api("/_emulator/faults", { method: "DELETE" });
    if (!result.ok) { $("fault-error").textContent = errorText(result); return; }
    toast("Fault rules cleared");
    loadFaults();
  }

  // ---------------------------------------------------------------- contracts

  async function loadContracts() {
    const [contracts, report] = await Promise.all([api("/_emulator/contracts"), api("/_emulator/report")]);
    const table = clear($("contracts-table"));
    if (contracts.ok) {
      const rows = Array.isArray(contracts.body.contracts) ? contracts.body.contracts : [];
      $("count-violations").textContent = contracts.body.failed ? `⚠ ${contracts.body.failed}` : "";
      table.append(
        el("thead", {}, el("tr", {}, ["contract", "checked", "passed", "violated", "violations", ""].map((c) => el("th", { text: c })))),
        el("tbody", {}, rows.map((row) => {
          const bar = el("div", { class: "bar" });
          if (row.checked) {
            const pass = el("span", { class: "bar-pass" });
            pass.style.width = `${(100 * row.passed) / row.checked}%`;
            const fail = el("span", { class: "bar-fail" });
            fail.style.width = `${(100 * row.failed) / row.checked}%`;
            bar.append(pass, fail);
          }
          return el("tr", { class: `contract-row${row.failed ? " has-failures" : ""}`, dataset: { contract: row.contract } },
            el("td", { class: "mono", text: row.contract }),
            el("td", { class: "num", text: String(row.checked) }),
            el("td", { class: "num pass", text: String(row.passed) }),
            el("td", { class: `num${row.failed ? " fail" : ""}`, text: String(row.failed) }),
            el("td", { class: "num", text: String(row.violations) }),
            el("td", {}, bar),
          );
        })),
      );
    } else {
      table.append(el("caption", { text: errorText(contracts) }));
    }
    const box = clear($("report"));
    if (!report.ok) { box.append(el("p", { text: errorText(report) })); return; }
    const outcomes = report.body.outcomes || {};
    const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
    box.append(
      el("dl", { class: "facts report-facts" },
        fact("accepted", report.body.accepted),
        fact("pending (incl. retrying)", report.body.pending),
        fact("dropped from journal", report.body.droppedFromJournal),
        fact("accounted for", total === report.body.accepted ? `${total} of ${report.body.accepted} ✓` : `${total} of ${report.body.accepted}`),
      ),
      el("div", { class: "outcome-counts" }, Object.entries(outcomes).map(([name, n]) =>
        el("span", { class: "outcome-count", dataset: { outcome: name } }, badge(name), el("span", { class: "num", text: String(n) })))),
    );
  }

  // ---------------------------------------------------------------- navigation

  const PANEL_LOADERS = { affiliates: loadAffiliates, faults: loadFaults, contracts: loadContracts };

  function refreshVisiblePanel() {
    const loader = PANEL_LOADERS[state.tab];
    if (loader) loader();
  }
  const refreshVisiblePanelSoon = debounce(refreshVisiblePanel, 250);

  function route() {
    const parts = location.hash.replace(/^#\/?/, "").split("/");
    const tab = ["events", "affiliates", "faults", "contracts"].includes(parts[0]) ? parts[0] : "events";
    state.tab = tab;
    for (const link of document.querySelectorAll("nav.tabs a")) link.classList.toggle("active", link.dataset.tab === tab);
    for (const section of document.querySelectorAll("main > .tab")) section.hidden = section.id !== `tab-${tab}`;
    if (tab === "events") {
      const id = parts[1] ? decodeURIComponent(parts[1]) : null;
      if (id !== state.selected) {
        state.selected = id;
        if (id) loadTrace(id);
        else clear($("trace")).append(el("p", { class: "placeholder", text: "Select an event to see every hop it took." }));
      }
      renderEvents();
    } else {
      refreshVisiblePanel();
    }
  }

  // The page arrives with the newest summaries in it: the list is drawn from them as soon as
  // the document is parsed, before any request; the live stream then keeps it current.
  function showInitialEvents() {
    const data = $("initial-events");
    let summaries = [];
    try { summaries = JSON.parse(data ? data.textContent : "[]"); } catch (_) { return; }
    if (!Array.isArray(summaries)) return;
    for (const summary of summaries) upsert(summary);
    drawEvents();
  }

  async function start() {
    showInitialEvents();
    const outcomes = await api("/_emulator/outcomes");
    if (outcomes.ok) {
      for (const item of outcomes.body.outcomes || []) state.outcomes.set(item.outcome, item);
    }
    fillOutcomeOptions();
    for (const id of ["filter-type", "filter-outcome"]) $(id).addEventListener("change", renderEvents);
    $("filter-text").addEventListener("input", renderEvents);
    $("filters").addEventListener("submit", (e) => e.preventDefault());
    $("fault-form").addEventListener("submit", addFault);
    $("fault-clear").addEventListener("click", clearFaults);
    window.addEventListener("hashchange", route);
    route();
    connect();
    loadContracts(); // fills the violation count in the tab bar
  }

  document.addEventListener("DOMContentLoaded", start);
})();
