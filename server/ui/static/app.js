// memory-lifecycle dashboard. Plain browser JavaScript, no library, no build step:
// everything shown comes from the JSON endpoints under api/, and the page follows the
// change feed (api/changes, a long-poll) to redraw what changed without a reload.
// Text is always set with textContent, never parsed as HTML.
"use strict";

(() => {
  const LONG_POLL_SECONDS = 25;
  const REQUEST_SECONDS = 20;
  const PAGE_SIZE = 25;
  const RECENT = 20; // changes shown in the recent-changes list
  const TICK_MS = 10000; // stats, locks and the chart move with time, not only with writes
  const MAX_SHOWN_CHARS = 200000;
  const COLORS = ["#2f6fde", "#1f9d55", "#d9822b", "#8e44ad", "#c4342d", "#13a3a3", "#b7791f", "#5c6bc0"];

  const $ = (selector) => document.querySelector(selector);
  const state = {
    filters: { q: "", prefix: "", tags: [], searchMode: "" },
    cursors: [null], // the cursor of each page seen so far (null: the first page)
    page: 0,
    nextCursor: null,
    selected: null, // the key shown in the detail panel
    shown: null, // the entry shown there (its revision guards a delete)
    horizon: 86400,
    changes: [], // the newest RECENT changes seen, newest first
    serverNow: 0,
    serverNowAt: 0,
    colors: new Map(),
  };

  // ---------------------------------------------------------------- helpers

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  // every request is bounded: a server that stops answering is noticed, never waited on
  async function api(path, options = {}, seconds = REQUEST_SECONDS) {
    const response = await fetch(path, {
      credentials: "same-origin",
      signal: AbortSignal.timeout(seconds * 1000),
      ...options,
      headers: { Accept: "application/json", ...(options.headers || {}) },
    });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value === null || value === undefined || value === "") continue;
      for (const one of Array.isArray(value) ? value : [value]) search.append(name, one);
    }
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    for (const child of children) if (child !== null) node.append(child);
    return node;
  }

  function svg(tag, attrs = {}) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function bytes(n) {
    if (n === null || n === undefined) return "—";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i += 1;
    }
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  }

  function setNow(now) {
    state.serverNow = now;
    state.serverNowAt = Date.now();
  }

  function now() {
    return state.serverNow + (Date.now() - state.serverNowAt) / 1000;
  }

  function span(seconds) {
    const s = Math.abs(seconds);
    if (s < 60) return `${Math.round(s)} s`;
    if (s < 3600) return `${Math.round(s / 60)} min`;
    if (s < 86400) return `${(s / 3600).toFixed(s < 36000 ? 1 : 0)} h`;
    return `${(s / 86400).toFixed(s < 864000 ? 1 : 0)} d`;
  }

  function when(ts) {
    if (ts === null || ts === undefined) return "never";
    const delta = ts - now();
    return delta >= 0 ? `in ${span(delta)}` : `${span(delta)} ago`;
  }

  // a TTL as set in the policy file: whole units when it is one (600 -> "10 min")
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds === 0) return "never";
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
      if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}`;
    }
    return seconds < 60 ? `${seconds} s` : span(seconds);
  }

  // an entry's revision; a result that does not carry one shows a dash, never "null"
  function revisionText(revision) {
    return revision === null || revision === undefined ? "—" : String(revision);
  }

  // a search snippet marks each matching word **like this**: draw it as <mark>, as text
  // (a word is letters and digits only, so a "**" of the value itself stays as it is)
  function highlighted(snippet) {
    const out = document.createDocumentFragment();
    let at = 0;
    for (const match of snippet.matchAll(/\*\*([\p{L}\p{N}\p{M}]+)\*\*/gu)) {
      out.append(snippet.slice(at, match.index), el("mark", { text: match[1] }));
      at = match.index + match[0].length;
    }
    out.append(snippet.slice(at));
    return out;
  }

  // each cell but the first gets its column's name, which the narrow layout shows
  // before the value (a table row becomes a card there)
  function labelled(table, row) {
    const names = [...document.querySelectorAll(`#${table} thead th`)].map((th) => th.textContent.trim());
    [...row.children].forEach((cell, i) => {
      if (i > 0 && names[i]) cell.dataset.label = names[i];
    });
    return row;
  }

  function stamp(ts) {
    return ts === null || ts === undefined ? "" : new Date(ts * 1000).toLocaleString();
  }

  function timeCell(ts) {
    return el("td", { className: "when", text: when(ts), title: stamp(ts) });
  }

  // a key or pattern that may wrap only after a '/'
  function path(text) {
    const parts = text.split("/");
    const out = document.createDocumentFragment();
    parts.forEach((part, i) => {
      out.append(i < parts.length - 1 ? `${part}/` : part);
      if (i < parts.length - 1) out.append(document.createElement("wbr"));
    });
    return out;
  }

  function colorOf(policy) {
    if (!state.colors.has(policy)) state.colors.set(policy, COLORS[state.colors.size % COLORS.length]);
    return state.colors.get(policy);
  }

  function notify(message, kind = "info") {
    const notice = $("#notice");
    notice.textContent = message;
    notice.dataset.kind = kind;
    notice.hidden = !message;
  }

  function pretty(value) {
    const text = JSON.stringify(value, null, 2);
    if (text.length <= MAX_SHOWN_CHARS) return text;
    return `${text.slice(0, MAX_SHOWN_CHARS)}\n… (${text.length} characters; the rest is not shown)`;
  }

  function confirmAction(message, label) {
    const dialog = $("#confirm");
    $("#confirm-text").textContent = message;
    $("#confirm-ok").textContent = label;
    dialog.showModal();
    return new Promise((resolve) => {
      const done = (answer) => () => {
        dialog.close();
        $("#confirm-ok").onclick = null;
        $("#confirm-cancel").onclick = null;
        resolve(answer);
      };
      $("#confirm-ok").onclick = done(true);
      $("#confirm-cancel").onclick = done(false);
      dialog.oncancel = done(false);
    });
  }

  // ---------------------------------------------------------------- policies

  async function loadStats() {
    const stats = await api("api/stats");
    setNow(stats.now);
    $("#store").textContent = stats.store;
    const body = $("#policies tbody");
    body.replaceChildren();
    for (const p of stats.policies) {
      colorOf(p.pattern);
      const saved = p.total_bytes ? Math.round((1 - p.stored_bytes / p.total_bytes) * 100) : 0;
      const gone = p.configured ? {} : { title: "no longer in the policy file: its entries keep the rules they were written with" };
      const row = el(
        "tr",
        { "data-pattern": p.pattern },
        el("td", { className: "key", ...gone }, path(p.pattern)),
        el("td", { className: "ttl", text: duration(p.ttl_seconds), ...(p.ttl_seconds ? { title: `${p.ttl_seconds} s` } : {}) }),
        el("td", { className: "cleanup", text: p.cleanup_strategy || "—" }),
        el("td", { className: "conflicts", text: p.conflict_strategy || "—" }),
        el("td", { className: "num", text: String(p.entries) }),
        el("td", { className: "num", text: bytes(p.total_bytes) }),
        el("td", { className: "num", text: bytes(p.stored_bytes) }),
        el("td", {
          className: "num",
          text: p.compressed ? `${saved}% saved` : "—",
          title: `${p.compressed} of ${p.entries} entries stored gzip-compressed`,
        }),
        el("td", { className: "num", text: String(p.expired_pending) }),
        timeCell(p.next_expiry),
      );
      body.append(labelled("policies", row));
    }
    if (!stats.policies.length) body.append(el("tr", {}, el("td", { className: "empty", colspan: "10", text: "no entries yet" })));
    const saved = stats.total_bytes ? Math.round((1 - stats.stored_bytes / stats.total_bytes) * 100) : 0;
    const total = el(
      "tr",
      {},
      el("td", { text: "total" }),
      el("td"),
      el("td"),
      el("td"),
      el("td", { className: "num", text: String(stats.total_entries) }),
      el("td", { className: "num", text: bytes(stats.total_bytes) }),
      el("td", { className: "num", text: bytes(stats.stored_bytes) }),
      el("td", { className: "num", text: stats.compressed_entries ? `${saved}% saved` : "—" }),
      el("td", { className: "num", text: String(stats.expired_pending) }),
      el("td"),
    );
    $("#policies tfoot").replaceChildren(labelled("policies", total));
    $("#totals").textContent =
      `revision ${stats.revision} · ${stats.tombstones} tombstones · ${stats.locks_held} locks held` +
      (stats.db_size_bytes === null ? "" : ` · ${bytes(stats.db_size_bytes)} on disk`) +
      ` · policies: ${stats.policy_source}`;
    if (stats.policy_error) notify(`policy file not applied: ${stats.policy_error}`, "error");
  }

  // ---------------------------------------------------------------- expiry chart

  async function loadExpiries() {
    const data = await api(`api/expiries${query({ horizon_seconds: state.horizon, buckets: 24 })}`);
    drawChart(data);
  }

  function drawChart(data) {
    const width = 960;
    const height = 180;
    const left = 36;
    const bottom = 22;
    const top = 8;
    const plot = height - bottom - top;
    const most = Math.max(1, ...data.buckets.map((b) => b.entries));
    const slot = (width - left) / data.buckets.length;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "entries expiring per time slice" });
    chart.append(svg("line", { x1: left, y1: top + plot, x2: width, y2: top + plot, class: "axis" }));
    for (const mark of [0, most]) {
      const y = top + plot - (mark / most) * plot;
      const label = svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" });
      label.textContent = String(mark);
      chart.append(label);
    }
    data.buckets.forEach((bucket, i) => {
      const x = left + i * slot + 2;
      let y = top + plot;
      const parts = Object.entries(bucket.by_policy).sort(([a], [b]) => a.localeCompare(b));
      for (const [policy, count] of parts) {
        const h = (count / most) * plot;
        y -= h;
        const bar = svg("rect", { x, y, width: Math.max(slot - 4, 1), height: h, fill: colorOf(policy) });
        const tip = svg("title");
        tip.textContent = `${policy}: ${count} expiring ${stamp(bucket.start)} – ${stamp(bucket.end)}`;
        bar.append(tip);
        chart.append(bar);
      }
      if (i % 6 === 0) {
        const label = svg("text", { x: left + i * slot, y: height - 6 });
        label.textContent = i === 0 ? "now" : `+${span(bucket.start - data.now)}`;
        chart.append(label);
      }
    });
    $("#chart").replaceChildren(chart);
    const legend = $("#legend");
    legend.replaceChildren(
      el("span", { className: "muted", text: `${data.total} entries expire in this window` }),
    );
    for (const policy of data.policies) {
      const swatch = el("span", { className: "swatch" });
      swatch.style.background = colorOf(policy);
      legend.append(el("span", {}, swatch, policy));
    }
  }

  // ---------------------------------------------------------------- locks

  async function loadLocks() {
    const data = await api("api/locks");
    setNow(data.now);
    const body = $("#locks tbody");
    body.replaceChildren();
    for (const lock of data.locks) {
      const row = el(
        "tr",
        { "data-lock": lock.name },
        el("td", { className: "key" }, path(lock.name)),
        el("td", { text: lock.owner }),
        el("td", { className: "num", text: String(lock.token) }),
        timeCell(lock.expires_at),
      );
      body.append(labelled("locks", row));
    }
    if (!data.locks.length) body.append(el("tr", {}, el("td", { className: "empty", colspan: "4", text: "no locks held" })));
  }

  // ---------------------------------------------------------------- entries

  // a search result's match column: the similarity where meaning found it, else the score
  function matchText(entry) {
    return entry.similarity == null ? entry.score.toFixed(2) : `${Math.round(entry.similarity * 100)}%`;
  }

  // what api/entries is asked for: the filters, the search mode, the page's cursor
  function entriesQuery() {
    const { q, prefix, tags, searchMode } = state.filters;
    const params = { q, prefix, tag: tags, cursor: state.cursors[state.page], limit: PAGE_SIZE };
    if (q && searchMode) params.search_mode = searchMode;
    return query(params);
  }

  async function loadEntries(changed = new Set()) {
    let data;
    try {
      data = await api(`api/entries${entriesQuery()}`);
    } catch (e) {
      if (e.status !== 400) throw e;
      showInvalidFilters(e.message); // said by the search box, and in the table
      return;
    }
    showFilterError("");
    setNow(data.now);
    state.nextCursor = data.next_cursor;
    const searching = data.mode === "search";
    $("#entries-extra").textContent = searching ? "match" : "size";
    const body = $("#entries tbody");
    body.replaceChildren();
    for (const entry of data.entries) {
      const open = el("button", { type: "button", className: "link", onclick: () => select(entry.key, true) }, path(entry.key));
      const keyCell = el("td", { className: "key" }, open);
      if (searching && entry.snippet) keyCell.append(el("span", { className: "snippet" }, highlighted(entry.snippet)));
      const row = el(
        "tr",
        { "data-key": entry.key },
        keyCell,
        el("td", { className: "key" }, path(entry.policy)),
        el("td", {}, ...entry.tags.map((t) => el("span", { className: "tag", text: t }))),
        el("td", { className: "num", text: searching ? matchText(entry) : bytes(entry.size_bytes) }),
        timeCell(entry.updated_at),
        searching ? el("td", { className: "muted", text: "—" }) : timeCell(entry.expires_at),
        el("td", { className: "num rev", text: revisionText(entry.revision) }),
      );
      if (entry.key === state.selected) row.classList.add("selected");
      if (changed.has(entry.key)) row.classList.add("changed");
      body.append(labelled("entries", row));
    }
    if (!data.entries.length) {
      const { q, prefix, tags } = state.filters;
      const what = q || prefix || tags.length ? "nothing matches these filters" : "no entries";
      body.append(el("tr", {}, el("td", { className: "empty", colspan: "7", text: what })));
    }
    $("#prev").disabled = state.page === 0;
    $("#next").disabled = !state.nextCursor;
    const page = $("#page");
    page.textContent = `page ${state.page + 1}` + (data.order === "text" ? " · keys in text order" : "");
    page.title = data.order === "text" ? "over 1000 entries match: narrow them with a prefix or a tag to sort keys naturally" : "";
  }

  // a filter the server refused: the reason under the search box, the input marked,
  // and the table says why it lists nothing (it never shows an unfiltered list instead)
  function showInvalidFilters(message) {
    showFilterError(message);
    const row = el(
      "td",
      { className: "empty invalid", colspan: "7" },
      el("strong", { text: "Nothing is listed: the filters above are not valid." }),
      el("br"),
      message,
    );
    $("#entries tbody").replaceChildren(el("tr", { "data-invalid": "" }, row));
    state.nextCursor = null;
    $("#prev").disabled = true;
    $("#next").disabled = true;
    $("#page").textContent = "";
  }

  function showFilterError(message) {
    const box = $("#filter-error");
    const appearing = box.hidden && message;
    box.textContent = message;
    box.hidden = !message;
    if (appearing) box.scrollIntoView({ block: "nearest" }); // below the box being typed in
    const field = !message
      ? null
      : /^invalid query\b/.test(message)
        ? "q"
        : /\btags?\b/.test(message)
          ? "tags"
          : /\bprefix\b/.test(message)
            ? "prefix"
            : "q";
    for (const id of ["q", "prefix", "tags"]) {
      if (id === field) $(`#${id}`).setAttribute("aria-invalid", "true");
      else $(`#${id}`).removeAttribute("aria-invalid");
    }
  }

  function setFilters() {
    state.filters = {
      q: $("#q").value.trim(),
      prefix: $("#prefix").value.trim(),
      tags: $("#tags").value.split(/[\s,]+/).filter(Boolean),
      searchMode: $("#search-mode").value,
    };
    state.cursors = [null];
    state.page = 0;
    loadEntries().then(() => notify(""), (e) => notify(e.message, "error"));
  }

  // ---------------------------------------------------------------- one entry

  // show ``key`` in the detail panel; ``reveal``: a person picked it, so bring the
  // panel into view when it is not (on a phone it is below the whole list)
  async function select(key, reveal = false) {
    state.selected = key;
    for (const row of document.querySelectorAll("#entries tbody tr")) {
      row.classList.toggle("selected", row.dataset.key === key);
    }
    try {
      await loadDetail();
    } catch (e) {
      notify(e.message, "error");
    }
    if (reveal && key === state.selected) bringIntoView($("#detail"), $("#detail-title"));
  }

  function bringIntoView(panel, focus) {
    const box = panel.getBoundingClientRect();
    const visible = box.top >= 0 && box.top < window.innerHeight * 0.75;
    if (visible) return;
    panel.scrollIntoView({ block: "start" });
    focus.focus({ preventScroll: true }); // a screen reader follows to what was opened
  }

  function backToList() {
    const row = state.selected === null ? null : document.querySelector(`#entries tbody tr[data-key="${CSS.escape(state.selected)}"]`);
    const target = row || $("#entries-panel");
    target.scrollIntoView({ block: "center" });
    const button = row && row.querySelector("button");
    if (button) button.focus({ preventScroll: true });
  }

  async function loadDetail() {
    const key = state.selected;
    if (key === null) return;
    const entry = await api(`api/entry${query({ key })}`);
    if (key !== state.selected) return; // another entry was selected meanwhile
    setNow(entry.now);
    $("#detail-empty").hidden = entry.found;
    $("#detail-body").hidden = !entry.found;
    if (!entry.found) {
      state.shown = null;
      $("#detail-empty").textContent = `'${key}' is gone (deleted or expired).`;
      return;
    }
    state.shown = entry;
    $("#detail-key").textContent = entry.key;
    const meta = $("#detail-meta");
    meta.replaceChildren();
    const facts = [
      ["revision", revisionText(entry.revision)],
      ["actor", entry.actor],
      ["policy", `${entry.policy} (${entry.strategy})`],
      ["updated", `${stamp(entry.updated_at)} (${when(entry.updated_at)})`],
      ["created", stamp(entry.created_at)],
      ["expires", entry.expires_at === null ? "never" : `${stamp(entry.expires_at)} (${when(entry.expires_at)})`],
      ["size", `${bytes(entry.size_bytes)} raw, ${bytes(entry.stored_bytes)} stored${entry.compressed ? " (gzip)" : ""}`],
      ["tags", entry.tags.length ? entry.tags.join(", ") : "none"],
    ];
    for (const [name, value] of facts) meta.append(el("dt", { text: name }), el("dd", { text: value }));
    const siblings = entry.conflicts.length;
    $("#value-title").textContent = siblings ? `value (newest of ${siblings + 1} concurrent values)` : "value";
    $("#detail-value").textContent = pretty(entry.value);
    const conflicts = $("#detail-conflicts");
    conflicts.replaceChildren();
    entry.conflicts.forEach((sibling, i) => {
      conflicts.append(
        el(
          "div",
          { className: "conflict" },
          el("h4", { text: `sibling ${i + 1}: by ${sibling.actor}, ${stamp(sibling.timestamp)}` }),
          el("pre", { text: pretty(sibling.value) }),
        ),
      );
    });
  }

  async function deleteShown() {
    const entry = state.shown;
    if (!entry) return;
    const sure = await confirmAction(
      `Delete '${entry.key}' (revision ${entry.revision})? Every agent stops seeing it at once.`,
      "Delete",
    );
    if (!sure) return;
    try {
      const result = await api(`api/entry${query({ key: entry.key, if_revision: entry.revision })}`, { method: "DELETE" });
      if (result.deleted) notify(`deleted '${entry.key}'`);
      else if (result.conflict) notify(`'${entry.key}' changed since it was shown (now revision ${result.revision}); nothing was deleted`, "error");
      else notify(`'${entry.key}' was already gone`);
    } catch (e) {
      notify(e.message, "error");
    }
    await refresh();
  }

  // ---------------------------------------------------------------- maintenance

  async function cleanup() {
    const force = $("#force").checked;
    if (force) {
      const sure = await confirmAction(
        "Force cleanup also deletes expired entries of manual-strategy policies, which are " +
          "otherwise kept until someone asks. Run it?",
        "Run forced cleanup",
      );
      if (!sure) return;
    }
    $("#cleanup").disabled = true;
    try {
      const report = await api("api/cleanup", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ force }),
      });
      const parts = Object.entries(report.by_namespace).map(([p, n]) => `${p}: ${n}`);
      $("#cleanup-result").textContent =
        `${force ? "forced cleanup" : "cleanup"} deleted ${report.deleted_count} ` +
        `${report.deleted_count === 1 ? "entry" : "entries"}${parts.length ? ` (${parts.join(", ")})` : ""} ` +
        `in ${report.duration_ms.toFixed(1)} ms`;
    } catch (e) {
      notify(e.message, "error");
    } finally {
      $("#cleanup").disabled = false;
    }
    await refresh();
  }

  // ---------------------------------------------------------------- recent changes

  // the list starts with the last RECENT revisions of the change feed, then grows with
  // what the live feed brings (the same api/changes, so nothing is read twice)
  async function loadRecent(head) {
    let page;
    try {
      page = await api(`api/changes${query({ since: Math.max(0, head - RECENT) })}`);
    } catch (e) {
      if (e.status !== 410 || !e.body || !e.body.oldest) throw e;
      page = await api(`api/changes${query({ since: e.body.oldest - 1 })}`); // compacted
    }
    addChanges(page.changes, false);
  }

  function addChanges(changes, live) {
    const seen = new Set(state.changes.map((c) => `${c.revision} ${c.key}`));
    const fresh = changes.filter((c) => !seen.has(`${c.revision} ${c.key}`));
    state.changes = [...fresh, ...state.changes]
      .sort((a, b) => b.revision - a.revision || a.key.localeCompare(b.key))
      .slice(0, RECENT);
    drawChanges(live ? new Set(fresh) : new Set());
  }

  function drawChanges(fresh) {
    const body = $("#changes tbody");
    body.replaceChildren();
    for (const change of state.changes) {
      const open = el("button", { type: "button", className: "link", onclick: () => select(change.key, true) }, path(change.key));
      const row = el(
        "tr",
        { "data-revision": String(change.revision), "data-op": change.op },
        el("td", { className: "key" }, open),
        el("td", { className: "op", text: change.op }),
        el("td", { className: "num", text: String(change.revision) }),
        el("td", { className: "key" }, path(change.policy)),
      );
      if (fresh.has(change)) row.classList.add("changed");
      body.append(labelled("changes", row));
    }
    if (!state.changes.length) body.append(el("tr", {}, el("td", { className: "empty", colspan: "4", text: "no changes yet" })));
  }

  // ---------------------------------------------------------------- live updates

  async function refresh(changed = new Set()) {
    const results = await Promise.allSettled([
      loadStats(),
      loadExpiries(),
      loadLocks(),
      loadEntries(changed),
      state.selected !== null ? loadDetail() : null,
    ]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) notify(failed.reason.message, "error");
  }

  let pending = null;
  let changedKeys = new Set();
  function refreshSoon(keys) {
    for (const key of keys) changedKeys.add(key);
    if (pending) return;
    pending = setTimeout(() => {
      const keys = changedKeys;
      pending = null;
      changedKeys = new Set();
      refresh(keys);
    }, 100);
  }

  function setLive(mode, why = "") {
    const live = $("#live");
    if (mode === "live" && live.dataset.state === "down") {
      notify(""); // back after an outage: drop its error and redraw what may have moved
      refreshSoon([]);
    }
    live.dataset.state = mode;
    live.textContent = { live: "live", down: "reconnecting", connecting: "connecting" }[mode];
    live.title = why || "following the change feed";
  }

  async function follow(since) {
    let delay = 500;
    for (;;) {
      try {
        const url = `api/changes${query({ since, wait_seconds: LONG_POLL_SECONDS })}`;
        const page = await api(url, {}, LONG_POLL_SECONDS + REQUEST_SECONDS);
        setLive("live");
        delay = 500;
        if (page.changes.length) {
          refreshSoon(page.changes.map((c) => c.key));
          addChanges(page.changes, true);
        }
        since = page.next;
      } catch (e) {
        setLive("down", e.message);
        if (e.status === 410 || e.status === 400) {
          since = (await api("api/changes").catch(() => ({ next: null }))).next;
          refreshSoon([]);
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 10000);
      }
    }
  }

  // ---------------------------------------------------------------- start

  function debounce(fn, ms) {
    let timer = null;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  async function start() {
    const typed = debounce(setFilters, 250);
    $("#search-mode").addEventListener("change", setFilters);
    for (const id of ["#q", "#prefix", "#tags"]) {
      $(id).addEventListener("input", typed);
      $(id).addEventListener("keydown", (e) => {
        if (e.key === "Enter") setFilters();
      });
    }
    $("#prev").addEventListener("click", () => {
      state.page = Math.max(0, state.page - 1);
      loadEntries().catch((e) => notify(e.message, "error"));
    });
    $("#next").addEventListener("click", () => {
      if (!state.nextCursor) return;
      state.cursors[state.page + 1] = state.nextCursor;
      state.page += 1;
      loadEntries().catch((e) => notify(e.message, "error"));
    });
    $("#horizon").addEventListener("change", () => {
      state.horizon = Number($("#horizon").value);
      loadExpiries().catch((e) => notify(e.message, "error"));
    });
    $("#delete").addEventListener("click", deleteShown);
    $("#back").addEventListener("click", backToList);
    $("#cleanup").addEventListener("click", cleanup);
    // the cursor first, then the first load: a change made in between is not missed
    let since = null;
    try {
      since = (await api("api/changes")).next;
      setLive("live");
    } catch (e) {
      setLive("down", e.message);
    }
    await Promise.all([
      refresh(),
      since === null ? null : loadRecent(since).catch((e) => notify(e.message, "error")),
    ]);
    setInterval(() => {
      Promise.all([loadStats(), loadLocks(), loadExpiries()]).catch((e) => notify(e.message, "error"));
    }, TICK_MS);
    follow(since);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
