// The operator console: sign in if the broker asks, load the registry once
// over REST, then follow /v1/events (registry events plus a `stats` sample
// each second). No polling; EventSource reconnects by itself and resends
// Last-Event-ID, and a reconnect reloads the snapshot in case the gap was
// longer than the broker's event history.
import { bindFlow, removeChannelFlow, revokeFlow, unbindFlow } from "./actions.js";
import { api } from "./api.js";
import { barChart, lineChart } from "./charts.js";
import { $, clock, h, patchRows } from "./dom.js";
import { Model } from "./model.js";

const STATS_MS = 1000;
const model = new Model(render);
let source;

function setConn(state, text) {
  const el = $("#conn");
  el.dataset.state = state;
  el.textContent = text;
}

async function start() {
  const s = await api.session();
  $("#sign-out").hidden = !s.authRequired;
  if (s.authRequired && !s.signedIn) return showSignIn();
  $("#sign-in").hidden = true;
  $("#main").hidden = false;
  $("#bind-form").hidden = false;
  connect();
}

function showSignIn(message = "") {
  source?.close();
  source = undefined;
  setConn("signed-out", "signed out");
  $("#main").hidden = true;
  $("#bind-form").hidden = true;
  $("#sign-in").hidden = false;
  $("#sign-in-error").textContent = message;
  $("#token").focus();
}

/** Opens the stream first and holds its events until the REST snapshot is in, so nothing between the two is lost. */
function connect() {
  const held = [];
  let loaded = false;
  let everOpen = false;
  source = new EventSource(`/v1/events?stats=${STATS_MS}`);
  const onEvent = (msg) => {
    const e = JSON.parse(msg.data);
    if (!loaded) return held.push(e);
    const fetchId = model.apply(e);
    if (fetchId) refreshProvider(fetchId);
  };
  for (const t of [
    "provider.registered",
    "provider.state",
    "provider.fenced",
    "provider.freed",
    "provider.unbound",
    "provider.bound",
    "channel.removed",
    "provider.stale_results",
    "lease.granted",
    "lease.state",
    "lease.ended",
  ]) {
    source.addEventListener(t, onEvent);
  }
  source.addEventListener("stats", (msg) => loaded && model.stats(JSON.parse(msg.data)));
  source.addEventListener("open", () => {
    setConn("live", "live");
    if (everOpen) void reload();
    everOpen = true;
  });
  source.addEventListener("error", async () => {
    setConn("reconnecting", "reconnecting…");
    if (source.readyState === EventSource.CLOSED) {
      // The broker refused the stream (a session that expired, or a restart that forgot it).
      const s = await api.session().catch(() => undefined);
      if (s?.authRequired && !s.signedIn) showSignIn("Your session ended; sign in again.");
      else setTimeout(() => source?.readyState === EventSource.CLOSED && connect(), 2000);
    }
  });
  const reload = async () => {
    const [p, c, l] = await Promise.all([api.providers(), api.channels(), api.leases()]);
    model.load({ providers: p.providers, channels: c.channels, leases: l.leases });
  };
  reload().then(
    () => {
      loaded = true;
      for (const e of held.splice(0)) {
        const fetchId = model.apply(e);
        if (fetchId) refreshProvider(fetchId);
      }
    },
    (err) => (err.status === 401 ? showSignIn() : setConn("error", `${err.reason}: ${err.message}`)),
  );
}

async function refreshProvider(id) {
  try {
    const d = await api.provider(id);
    if (d.provider) {
      const known = model.provider(d.provider.providerId, d.provider.epoch);
      model.putProvider(d.provider);
      if (known?.goneAt) model.provider(d.provider.providerId, d.provider.epoch).goneAt = known.goneAt;
      model.changed();
    }
  } catch {
    // It went away again before we asked; its events say so.
  }
}

// ------------------------------------------------------------------ views

function stateBadge(state) {
  return h("span", { class: `badge s-${state}` }, state);
}

function channelCell(p) {
  return h(
    "div",
    { class: "channels" },
    p.channels.map((c) => {
      const pct = c.queueDepth ? Math.min(100, (c.outstanding / c.queueDepth) * 100) : 0;
      const live = p.state === "online" || p.state === "suspect" || p.state === "draining";
      return h(
        "span",
        {
          class: `chan${c.removed ? " removed" : ""}${c.leases ? " leased" : ""}`,
          title: `channel ${c.index}: ${c.leases} lease(s), ${c.outstanding}/${c.queueDepth} queued${c.removed ? ", removed" : ""}`,
        },
        h("b", {}, `ch${c.index}`),
        ` ${c.leases}L `,
        h("span", { class: "meter" }, h("span", { class: "fill", style: { width: `${pct.toFixed(0)}%` } })),
        ` ${c.outstanding}/${c.queueDepth}`,
        live &&
          !c.removed &&
          h(
            "button",
            {
              class: "x",
              title: `remove channel ${c.index}`,
              "aria-label": `remove channel ${c.index}`,
              onclick: () => removeChannelFlow(p.providerId, c.index),
            },
            "×",
          ),
      );
    }),
  );
}

function renderProviders(m) {
  const rows = [...m.providers.values()].sort((a, b) => a.providerId.localeCompare(b.providerId) || b.epoch - a.epoch);
  const live = (p) => p.state === "online" || p.state === "suspect" || p.state === "draining";
  patchRows(
    $("#providers tbody"),
    rows.length === 0
      ? [{ key: "-", cells: [{ sig: "empty", className: "empty", colspan: 7, content: () => ["No provider is registered."] }] }]
      : rows.map((p) => ({
          key: `${p.providerId}#${p.epoch}`,
          dataset: { provider: p.providerId, epoch: String(p.epoch), state: p.state },
          className: p.goneAt ? "gone" : "",
          cells: [
            { sig: p.providerId, content: () => [h("strong", {}, p.providerId)] },
            { sig: `${p.state}|${p.endReason}`, title: p.endReason, content: () => [stateBadge(p.state)] },
            { sig: String(p.epoch), className: "num", content: () => [String(p.epoch)] },
            { sig: p.profile, content: () => [p.profile] },
            { sig: JSON.stringify(p.labels), content: () => Object.entries(p.labels).map(([k, v]) => h("span", { class: "label" }, `${k}=${v}`)) },
            { sig: `${p.state}|${JSON.stringify(p.channels)}`, content: () => [channelCell(p)] },
            { sig: String(live(p)), content: () => [live(p) && h("button", { class: "danger", onclick: () => unbindFlow(p.providerId) }, "Unbind…")] },
          ],
        })),
  );
  const ids = [...m.unbound].sort();
  const strip = $("#unbound");
  if (strip.dataset.sig !== ids.join(",")) {
    strip.dataset.sig = ids.join(",");
    strip.replaceChildren(
      ...ids.map((id) => h("span", { class: "unbound", dataset: { unbound: id } }, `${id} is unbound `, h("button", { onclick: () => bindFlow(id) }, "Bind…"))),
    );
  }
}

function renderLeases(m) {
  const rows = [...m.leases.values()].sort(
    (a, b) => Number(Boolean(a.endReason)) - Number(Boolean(b.endReason)) || (b.endedAtMs ?? 0) - (a.endedAtMs ?? 0) || a.leaseId.localeCompare(b.leaseId),
  );
  patchRows(
    $("#leases tbody"),
    rows.length === 0
      ? [{ key: "-", cells: [{ sig: "empty", className: "empty", colspan: 7, content: () => ["No lease."] }] }]
      : rows.map((l) => ({
          key: l.leaseId,
          dataset: { lease: l.leaseId, state: l.state, reason: l.endReason ?? "" },
          className: l.endReason ? "gone" : "",
          cells: [
            { sig: l.leaseId, content: () => [h("code", {}, l.leaseId)] },
            { sig: l.clientId, content: () => [l.clientId] },
            { sig: `${l.providerId}#${l.epoch}/${l.channel}`, content: () => [`${l.providerId} #${l.epoch} · ch${l.channel}`] },
            { sig: l.mode, content: () => [l.mode] },
            { sig: `${l.state}|${l.endReason}`, content: () => [stateBadge(l.state), l.endReason ? h("span", { class: "reason" }, ` ${l.endReason}`) : ""] },
            { sig: String(l.unfinished ?? 0), className: "num", content: () => [String(l.unfinished ?? 0)] },
            {
              sig: String(!l.endReason),
              content: () => [!l.endReason && h("button", { class: "danger", onclick: () => revokeFlow(model.leases.get(l.leaseId) ?? l) }, "Revoke…")],
            },
          ],
        })),
  );
}

function describe(e) {
  switch (e.type) {
    case "provider.registered":
      return `${e.providerId} #${e.epoch} registered (${e.profile}, ${e.channels} channels)`;
    case "provider.state":
      return `${e.providerId} #${e.epoch} ${e.from} → ${e.to}${e.reason ? `: ${e.reason}` : ""}`;
    case "provider.unbound":
      return `${e.providerId} #${e.epoch} unbound (${e.mode}; ${e.leases} lease(s), ${e.unfinished} unfinished)`;
    case "provider.bound":
      return `${e.providerId} bound`;
    case "channel.removed":
      return `${e.providerId} #${e.epoch} channel ${e.channel} removed (${e.leases} lease(s))`;
    case "lease.granted":
      return `${e.leaseId} granted to ${e.clientId} on ${e.providerId} ch${e.channel} (${e.mode})`;
    case "lease.state":
      return `${e.leaseId} ${e.from} → ${e.to}${e.reason ? ` (${e.reason})` : ""}`;
    case "lease.ended":
      return `${e.leaseId} of ${e.clientId} ended ${e.reason}${e.aborted ? `, ${e.aborted} cookie(s) aborted` : ""}`;
    default:
      return `${e.providerId ?? ""} #${e.epoch ?? ""}`;
  }
}

function renderEvents(m) {
  $("#events").replaceChildren(
    ...m.events
      .slice(0, 60)
      .map((e) =>
        h("li", { class: `ev ev-${e.type.replace(".", "-")}` }, h("time", {}, clock(e.atMs)), h("span", { class: "type" }, e.type), h("span", {}, describe(e))),
      ),
  );
}

function render(m) {
  const providers = [...m.providers.values()];
  const online = providers.filter((p) => p.state === "online").length;
  const live = [...m.leases.values()].filter((l) => !l.endReason).length;
  const last = m.throughput.at(-1);
  $("#summary").textContent =
    `${online}/${providers.length} providers online · ${live} live leases${last ? ` · ${last.completedPerS.toFixed(0)} cookies/s` : ""}`;
  renderProviders(m);
  renderLeases(m);
  renderEvents(m);
  lineChart($("#chart-throughput"), [
    { values: m.throughput.map((t) => t.completedPerS), className: "completed", label: "completed" },
    { values: m.throughput.map((t) => t.acceptedPerS), className: "accepted", label: "accepted" },
  ]);
  barChart(
    $("#chart-detection"),
    m.detections.map((d) => ({ value: d.ms, label: `${d.providerId} at ${clock(d.atMs)} (${d.cause})` })),
    "ms",
  );
  document.body.dataset.ready = "1";
}

// ------------------------------------------------------------------ wiring

$("#sign-in-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = $("#token").value;
  $("#token").value = "";
  try {
    await api.signIn(token);
    await start();
  } catch (err) {
    $("#sign-in-error").textContent = `${err.reason}: ${err.message}`;
  }
});

$("#sign-out").addEventListener("click", async () => {
  await api.signOut().catch(() => {});
  showSignIn();
});

$("#bind-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const id = $("#bind-id").value.trim();
  if (id && (await bindFlow(id))) $("#bind-id").value = "";
});

start().catch((err) => setConn("error", `cannot reach the broker: ${err.message}`));
