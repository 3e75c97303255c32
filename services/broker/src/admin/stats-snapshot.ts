import type { BrokerCore, StatsSnapshot } from "@dmabroker/core";

export type { StatsSnapshot };

/** Channels and leases one stats message lists at most (the rest is counted in `truncated`). */
export const STATS_MAX_ITEMS = 2000;

export function statsSnapshot(core: BrokerCore, atMs: number): StatsSnapshot {
  const s = core.stats;
  let budget = STATS_MAX_ITEMS;
  let truncated = 0;
  // listChannels lists present providers in order, each one's channels together (and each has at least one).
  const providers: StatsSnapshot["providers"] = [];
  let last: StatsSnapshot["providers"][number] | undefined;
  for (const c of core.listChannels()) {
    if (last?.providerId !== c.providerId) providers.push((last = { providerId: c.providerId, epoch: c.epoch, state: c.providerState, channels: [] }));
    if (budget-- <= 0) {
      truncated++;
      continue;
    }
    last.channels.push({ index: c.index, outstanding: c.outstanding, queueDepth: c.queueDepth, leases: c.leases, removed: c.removed });
  }
  const leases: StatsSnapshot["leases"] = [];
  for (const l of core.listLeases({ live: true }).items) {
    if (budget-- <= 0) {
      truncated++;
      continue;
    }
    leases.push({ leaseId: l.leaseId, state: l.state, unfinished: l.unfinished });
  }
  return {
    atMs,
    cookies: {
      accepted: s.cookiesAccepted,
      completed: s.cookiesCompleted,
      failed: s.cookiesFailed,
      aborted: s.cookiesAborted,
      staleRefused: s.staleResultsRefused,
    },
    providers,
    leases,
    truncated,
  };
}
