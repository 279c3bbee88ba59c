// The campaign dashboard: reads the API with the key kept in this tab's sessionStorage.
// Every value from the API reaches the page as text (textContent), never as markup.
"use strict";

(() => {
  const KEY = "orchestrator.apiKey";
  const POLL_MS = 2000;
  // Outcomes count every call of a campaign: asked for on every fifth refresh only.
  const OUTCOMES_EVERY = 5;
  // The SVG namespace, from an <svg> the HTML parser placed in it (no URI spelled out here).
  const SVG = document.getElementById("svg-namespace").namespaceURI;
  const view = document.getElementById("view");
  const errors = document.getElementById("errors");
  const signIn = document.getElementById("sign-in");
  const signOut = document.getElementById("sign-out");
  const live = document.getElementById("live");
  let generation = 0;
  let timer = null;
  let outcomes = { id: null, counts: {}, polls: 0 };

  class ApiError extends Error {
    constructor(status, messages) {
      super(messages.join("; "));
      this.status = status;
      this.messages = messages;
    }
  }

  // Vapi's error shape: `message` is a string or a list of them.
  function messagesOf(response, body) {
    const message = body && body.message;
    if (Array.isArray(message)) return message.map(String);
    if (typeof message === "string") return [message];
    return [`${response.status} ${response.statusText || "error"}`];
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    // Paths are relative to the page: the API serves both.
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, messagesOf(response, data));
    return data;
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "class") node.className = value;
      else node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function svg(tag, attributes, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    for (const child of children) node.append(child instanceof Node ? child : String(child));
    return node;
  }

  function showErrors(messages) {
    errors.replaceChildren(...messages.map((message) => el("li", {}, message)));
    errors.hidden = messages.length === 0;
  }

  function failed(error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(KEY);
      route();
      showErrors(error.messages);
      return;
    }
    showErrors(error instanceof ApiError ? error.messages : [String(error.message || error)]);
  }

  // --- counters and progress ------------------------------------------------------------------

  const DONE = ["completed", "failed", "skipped"];

  function contactParts(counters) {
    return {
      completed: counters.completed,
      failed: counters.failed,
      skipped: counters.skipped + counters.predialFailed,
      dispatched: counters.dispatched,
    };
  }

  function progressBar(counters) {
    const total = Math.max(counters.total, 1);
    const parts = contactParts(counters);
    const bar = svg("svg", { class: "progress", viewBox: "0 0 1000 10", preserveAspectRatio: "none", role: "img" });
    bar.append(svg("rect", { class: "track", x: 0, y: 0, width: 1000, height: 10 }));
    let x = 0;
    for (const name of [...DONE, "dispatched"]) {
      const width = (parts[name] / total) * 1000;
      bar.append(svg("rect", { class: name, x, y: 0, width, height: 10 }));
      x += width;
    }
    const done = DONE.reduce((sum, name) => sum + parts[name], 0);
    bar.setAttribute("aria-label", `${done} of ${counters.total} contacts done`);
    bar.dataset.done = String(done);
    return bar;
  }

  function counterLine(counters) {
    const parts = contactParts(counters);
    const item = (name, label, value) =>
      el("span", {}, el("span", { class: `key ${name}` }), `${label} `, el("b", { "data-counter": name }, value));
    return el(
      "div",
      { class: "counters" },
      item("completed", "completed", parts.completed),
      item("failed", "failed", parts.failed),
      item("skipped", "skipped", parts.skipped),
      item("dispatched", "in flight", parts.dispatched),
      el("span", {}, "pending ", el("b", { "data-counter": "pending" }, counters.pending)),
      el("span", { class: "muted" }, "of ", el("b", { "data-counter": "total" }, counters.total)),
    );
  }

  function statusBadge(campaign) {
    return el("span", { class: `status ${campaign.status}` }, campaign.status);
  }

  // --- the org's campaigns ----------------------------------------------------------------------

  async function campaignsPage(current) {
    const page = await api("GET", "v2/campaign?includeCounters=true&limit=100");
    if (current !== generation) return;
    document.title = "Campaigns";
    const rows = page.results.map((campaign) =>
      el(
        "div",
        { class: "panel campaign", "data-campaign-id": campaign.id },
        el(
          "div",
          { class: "title-row" },
          el("a", { href: `#/campaign/${encodeURIComponent(campaign.id)}` }, campaign.name || campaign.id),
          statusBadge(campaign),
          el("span", { class: "muted" }, `created ${new Date(campaign.createdAt).toLocaleString()}`),
        ),
        campaign.contactCounters ? progressBar(campaign.contactCounters) : null,
        campaign.contactCounters ? counterLine(campaign.contactCounters) : null,
      ),
    );
    const empty = el("p", { class: "muted" }, "No campaigns yet.");
    const total = page.metadata.totalItems;
    const more = total > rows.length ? el("p", { class: "muted" }, `The latest ${rows.length} of ${total}.`) : null;
    view.replaceChildren(el("h1", {}, "Campaigns"), ...(rows.length ? rows : [empty]), ...(more ? [more] : []));
  }

  // --- one campaign -----------------------------------------------------------------------------

  const CHANGES = {
    "in-progress": [["Pause", "paused"], ["Cancel", "cancelled"]],
    scheduled: [["Pause", "paused"], ["Cancel", "cancelled"]],
    paused: [["Resume", "in-progress"], ["Cancel", "cancelled"]],
  };

  function actions(campaign, refresh) {
    const buttons = (CHANGES[campaign.status] || []).map(([label, status]) => {
      const button = el("button", { type: "button", "data-status": status }, label);
      if (status === "cancelled") button.className = "danger";
      button.addEventListener("click", async () => {
        if (status === "cancelled" && !window.confirm("Cancel this campaign? It cannot be resumed.")) return;
        button.disabled = true;
        try {
          await api("PATCH", `v2/campaign/${encodeURIComponent(campaign.id)}`, { status });
          showErrors([]);
          await refresh();
        } catch (error) {
          failed(error);
        } finally {
          button.disabled = false;
        }
      });
      return button;
    });
    return el("div", { class: "actions" }, ...buttons);
  }

  function chart(activity) {
    const width = 600;
    const height = 150;
    const top = 4;
    const buckets = activity.buckets;
    const step = activity.bucketSeconds;
    const rates = buckets.map((bucket) => bucket.dials / step);
    const maxRate = Math.max(...rates, 0.1);
    const maxFlight = Math.max(...buckets.map((bucket) => bucket.inFlight), 1);
    const slot = width / Math.max(buckets.length, 1);
    const graph = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
    graph.setAttribute("aria-label", "calls per second and calls in flight");
    graph.append(svg("line", { class: "axis", x1: 0, y1: height, x2: width, y2: height }));
    rates.forEach((rate, index) => {
      const h = (rate / maxRate) * (height - top);
      graph.append(svg("rect", { class: "rate", x: index * slot + 1, y: height - h, width: Math.max(slot - 2, 1), height: h }));
    });
    const points = buckets.map((bucket, index) => {
      const y = height - (bucket.inFlight / maxFlight) * (height - top);
      return `${(index + 0.5) * slot},${y}`;
    });
    graph.append(svg("polyline", { class: "in-flight", points: points.join(" "), "vector-effect": "non-scaling-stroke" }));
    // Labels in HTML: text inside a stretched drawing would stretch with it.
    const minutes = Math.round((buckets.length * step) / 60);
    const scale = el("div", { class: "scale" }, el("span", {}, `${maxRate.toFixed(1)} calls/s`), el("span", {}, `${maxFlight} in flight`));
    const times = el("div", { class: "scale" }, el("span", {}, `${minutes} min ago`), el("span", {}, "now"));
    const latest = buckets.slice(-3);
    const recentRate = latest.reduce((sum, bucket) => sum + bucket.dials, 0) / (latest.length * step || 1);
    const legend = el(
      "div",
      { class: "legend" },
      el("span", { class: "rate" }, "calls/s ", el("b", { "data-figure": "rate" }, recentRate.toFixed(2))),
      el("span", { class: "in-flight" }, "in flight ", el("b", { "data-figure": "in-flight" }, activity.inFlight)),
    );
    return el("div", { class: "panel" }, el("h2", {}, "Calls over the last minutes"), legend, scale, graph, times);
  }

  function table(title, headings, rows, emptyText) {
    const head = el("tr", {}, ...headings.map(([label, cls]) => el("th", { class: cls || "" }, label)));
    const body = rows.map((cells) =>
      el("tr", {}, ...cells.map((cell, index) => el("td", { class: headings[index][1] || "" }, cell))),
    );
    const content = rows.length ? el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)) : el("p", { class: "muted" }, emptyText);
    return el("div", { class: "panel", "data-panel": title }, el("h2", {}, title), content);
  }

  const COUNT = ["count", "number"];

  function countRows(counts) {
    return Object.entries(counts || {}).map(([name, count]) => [name, count]);
  }

  function pacingPanel(pacing) {
    const waiting = countRows(pacing && pacing.waiting).filter(([, count]) => count > 0);
    const panel = table("Why contacts wait", [["reason"], COUNT], waiting, "No contact is held back.");
    if (pacing) {
      const finish = pacing.estimatedFinishAt ? new Date(pacing.estimatedFinishAt).toLocaleString() : "unknown";
      panel.append(
        el(
          "p",
          { class: "muted" },
          `Limited by ${pacing.limitedBy} at ${pacing.sustainableCallsPerSecond.toFixed(2)} calls/s; estimated finish ${finish}.`,
        ),
      );
    }
    return panel;
  }

  function eventsPanel(events) {
    const rows = events.results.map((event) => [
      event.eventType,
      event.sequence === null ? "" : event.sequence,
      event.attempts,
      event.lastError || "",
      new Date(event.occurredAt).toLocaleString(),
    ]);
    const headings = [["event"], ["#", "number"], ["attempts", "number"], ["last error"], ["occurred"]];
    const title = `Failed webhook deliveries (${events.metadata.totalItems})`;
    return table(title, headings, rows, "No failed deliveries.");
  }

  async function campaignPage(current, id) {
    const path = encodeURIComponent(id);
    const withOutcomes = outcomes.id !== id || outcomes.polls % OUTCOMES_EVERY === 0;
    const [campaign, activity, events] = await Promise.all([
      api("GET", `v2/campaign/${path}`),
      api("GET", `campaign/${path}/activity?minutes=10&includeOutcomes=${withOutcomes}`),
      api("GET", `campaign/${path}/events?status=failed&limit=20`),
    ]);
    if (current !== generation) return;
    if (withOutcomes) outcomes = { id, counts: activity.outcomes || {}, polls: 0 };
    outcomes.polls += 1;
    document.title = `${campaign.name} · Campaigns`;
    const refresh = () => {
      outcomes.polls = 0;
      return campaignPage(generation, id);
    };
    const counters = campaign.contactCounters;
    const summary = el(
      "div",
      { class: "panel", "data-campaign-id": campaign.id },
      el("div", { class: "title-row" }, el("h1", {}, campaign.name || campaign.id), statusBadge(campaign), actions(campaign, refresh)),
      campaign.endedReason ? el("p", { class: "muted" }, campaign.endedReason) : null,
      counters ? progressBar(counters) : null,
      counters ? counterLine(counters) : null,
    );
    const panels = [
      table("Outcomes by endedReason", [["endedReason"], COUNT], countRows(outcomes.counts), "No call has ended yet."),
      pacingPanel(campaign.pacing),
    ];
    const texts = campaign.smsCounters || activity.texts;
    if (texts) panels.push(table("Texts", [["status"], COUNT], countRows(texts), ""));
    view.replaceChildren(
      el("p", {}, el("a", { href: "#/" }, "← all campaigns")),
      summary,
      chart(activity),
      el("div", { class: "grid" }, ...panels),
      eventsPanel(events),
    );
  }

  // --- routing, polling, signing in -------------------------------------------------------------

  function stop() {
    generation += 1;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function poll(render) {
    const current = generation;
    const tick = async () => {
      try {
        await render(current);
        if (current === generation) showErrors([]);
      } catch (error) {
        if (current === generation) failed(error);
      }
      if (current === generation && sessionStorage.getItem(KEY)) timer = setTimeout(tick, POLL_MS);
    };
    tick();
  }

  function route() {
    stop();
    const signedIn = Boolean(sessionStorage.getItem(KEY));
    signIn.hidden = signedIn;
    signOut.hidden = !signedIn;
    live.hidden = !signedIn;
    if (!signedIn) {
      view.replaceChildren();
      document.getElementById("api-key").focus();
      return;
    }
    const match = /^#\/campaign\/([^/]+)$/.exec(location.hash);
    if (match) poll((current) => campaignPage(current, decodeURIComponent(match[1])));
    else poll(campaignsPage);
  }

  signIn.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("api-key");
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = "";
    showErrors([]);
    route();
  });
  signOut.addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    showErrors([]);
    route();
  });
  window.addEventListener("hashchange", () => {
    showErrors([]);
    route();
  });
  route();
})();
