// Every change goes through one confirmation dialog; unbind and channel
// removal show the broker's dry-run answer (what would end) before asking.
import { api } from "./api.js";
import { $, h } from "./dom.js";

/**
 * Opens the dialog: `body` is an element, `run` does the change. Resolves
 * true when confirmed and done; errors stay in the dialog to read.
 */
function confirmDialog(title, body, okLabel, run) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-body").replaceChildren(body);
  $("#confirm-error").textContent = "";
  const ok = $("#confirm-ok");
  ok.textContent = okLabel;
  ok.disabled = false;
  return new Promise((resolve) => {
    const onOk = async (ev) => {
      ev.preventDefault();
      ok.disabled = true;
      try {
        await run();
        cleanup();
        dialog.close("done");
        resolve(true);
      } catch (err) {
        $("#confirm-error").textContent = `${err.reason ?? "ERROR"}: ${err.message}`;
        ok.disabled = false;
      }
    };
    const onClose = () => {
      cleanup();
      resolve(false);
    };
    const cleanup = () => {
      ok.removeEventListener("click", onOk);
      dialog.removeEventListener("close", onClose);
    };
    ok.addEventListener("click", onOk);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
  });
}

function affectedList(leases, unfinished) {
  if (leases.length === 0) return h("p", {}, "No lease holds it: nothing ends.");
  return h(
    "div",
    {},
    h("p", {}, `${leases.length} lease(s) end with PROVIDER_GONE; ${unfinished} cookie(s) unfinished.`),
    h(
      "ul",
      { class: "affected" },
      leases.map((l) => h("li", {}, h("code", {}, l.leaseId), ` ${l.clientId} · ch ${l.channel} · ${l.mode} · ${l.unfinished} in flight`)),
    ),
  );
}

/** Unbind: pick a mode, see the dry run, then confirm. */
export async function unbindFlow(providerId) {
  const mode = h(
    "select",
    { id: "unbind-mode" },
    ["drain", "polite", "force"].map((m) => h("option", { value: m }, m)),
  );
  const timeout = h("input", { id: "unbind-timeout", type: "number", min: "0", max: "600000", value: "2000" });
  const preview = h("div", { id: "unbind-preview", class: "preview" }, "…");
  const refresh = async () => {
    preview.textContent = "asking the broker…";
    try {
      const r = await api.unbind(providerId, { mode: mode.value, dryRun: true, timeoutMs: Number(timeout.value) });
      preview.replaceChildren(
        h("p", {}, h("strong", {}, "Dry run: "), `epoch ${r.epoch}, state ${r.state}${r.alreadyUnbound ? " (already unbound)" : ""}.`),
        affectedList(r.leases, r.unfinishedCookies),
      );
      if (mode.value === "polite" && r.leases.length > 0)
        preview.append(h("p", { class: "warn" }, "Polite unbind will be refused (PROVIDER_BUSY) while these leases exist."));
    } catch (err) {
      preview.replaceChildren(h("p", { class: "error" }, `${err.reason}: ${err.message}`));
    }
  };
  mode.addEventListener("change", refresh);
  timeout.addEventListener("change", refresh);
  const body = h(
    "div",
    {},
    h(
      "p",
      {},
      "The provider is removed and may not register again until bound. ",
      h("em", {}, "polite"),
      " refuses while leases exist; ",
      h("em", {}, "drain"),
      " stops new work and lets issued work finish until the timeout; ",
      h("em", {}, "force"),
      " ends everything now.",
    ),
    h("label", {}, "mode ", mode),
    h("label", {}, " drain timeout (ms) ", timeout),
    preview,
  );
  void refresh();
  return confirmDialog(`Unbind ${providerId}`, body, "Unbind", () =>
    api.unbind(providerId, { mode: mode.value, dryRun: false, timeoutMs: Number(timeout.value), reason: "unbound from the console" }),
  );
}

export async function bindFlow(providerId) {
  return confirmDialog(
    `Bind ${providerId}`,
    h("p", {}, `Lets provider ${providerId} register again (its agent reconnects as a new incarnation).`),
    "Bind",
    () => api.bind(providerId),
  );
}

export async function removeChannelFlow(providerId, index) {
  const preview = h("div", { class: "preview" }, "asking the broker…");
  api.removeChannel(providerId, index, { dryRun: true }).then(
    (r) =>
      preview.replaceChildren(
        affectedList(
          r.leases,
          r.leases.reduce((n, l) => n + l.unfinished, 0),
        ),
      ),
    (err) => preview.replaceChildren(h("p", { class: "error" }, `${err.reason}: ${err.message}`)),
  );
  const body = h("div", {}, h("p", {}, `Hot-removes channel ${index} of ${providerId}: only its leases end.`), preview);
  return confirmDialog(`Remove channel ${index} of ${providerId}`, body, "Remove channel", () =>
    api.removeChannel(providerId, index, { dryRun: false, reason: "removed from the console" }),
  );
}

export async function revokeFlow(lease) {
  const reason = h("input", { id: "revoke-reason", maxlength: "200", placeholder: "reason (optional)" });
  const body = h(
    "div",
    {},
    h(
      "p",
      {},
      `Lease `,
      h("code", {}, lease.leaseId),
      ` of ${lease.clientId} on ${lease.providerId} ch ${lease.channel}: its ${lease.unfinished ?? 0} unfinished cookie(s) end ABORTED / LEASE_REVOKED.`,
    ),
    h("label", {}, "reason ", reason),
  );
  return confirmDialog(`Revoke ${lease.leaseId}`, body, "Revoke", () => api.revoke(lease.leaseId, reason.value.trim()));
}
