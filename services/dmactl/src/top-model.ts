/** What `dmactl top` knows: one REST load, then the event stream's events and `stats` samples. */

import type { StatsSnapshot } from "@dmabroker/core";

export interface TopProvider {
  providerId: string;
  epoch: number;
  state: string;
  profile: string;
  labels: Record<string, string>;
  channels: { index: number; queueDepth: number; leases: number; outstanding: number; removed: boolean }[];
}

export interface TopLease {
  leaseId: string;
  clientId: string;
  providerId: string;
  epoch: number;
  channel: number;
  mode: string;
  state: string;
  endReason: string;
  unfinished: number;
  endedAtMs: number;
}

/** One `stats` message of the event stream: the broker's StatsSnapshot. */
export type StatsSample = StatsSnapshot;

export interface Rates {
  atMs: number;
  completed: number;
  accepted: number;
  failed: number;
  aborted: number;
}

const MAX_SAMPLES = 60;
const MAX_EVENTS = 50;
const MAX_ENDED_LEASES = 20;

const key = (id: string, epoch: number): string => `${id}#${epoch}`;

export class TopModel {
  readonly providers = new Map<string, TopProvider>();
  readonly leases = new Map<string, TopLease>();
  /** Newest first: the raw event messages (dmactl's describeEvent prints them). */
  readonly events: Record<string, unknown>[] = [];
  readonly rates: Rates[] = [];
  lastDetectionMs: number | undefined;
  private last: StatsSample | undefined;

  load(
    providers: (Omit<TopProvider, "channels"> & { channels: Omit<TopProvider["channels"][number], "removed">[] })[],
    leases: Omit<TopLease, "endedAtMs">[],
  ): void {
    this.providers.clear();
    for (const p of providers) this.providers.set(key(p.providerId, p.epoch), { ...p, channels: p.channels.map((c) => ({ ...c, removed: false })) });
    this.leases.clear();
    for (const l of leases) this.leases.set(l.leaseId, { ...l, endedAtMs: 0 });
  }

  apply(e: Record<string, unknown>): void {
    this.events.unshift(e);
    if (this.events.length > MAX_EVENTS) this.events.length = MAX_EVENTS;
    const id = typeof e.providerId === "string" ? e.providerId : "";
    const epoch = Number(e.epoch ?? 0);
    const p = this.providers.get(key(id, epoch));
    switch (e.type) {
      case "provider.registered":
        if (!p) this.providers.set(key(id, epoch), { providerId: id, epoch, state: "online", profile: String(e.profile), labels: {}, channels: [] });
        break;
      case "provider.state":
        if (p) {
          p.state = String(e.to);
          if (p.state === "lost" || p.state === "removed") for (const c of p.channels) Object.assign(c, { outstanding: 0, leases: 0 });
        }
        if (e.to === "lost") this.lastDetectionMs = Number(e.sinceHeartbeatMs ?? 0);
        break;
      case "provider.freed":
        this.providers.delete(key(id, epoch));
        break;
      case "channel.removed": {
        const c = p?.channels.find((ch) => ch.index === Number(e.channel));
        if (c) c.removed = true;
        break;
      }
      case "lease.granted":
        this.leases.set(String(e.leaseId), {
          leaseId: String(e.leaseId),
          clientId: String(e.clientId),
          providerId: id,
          epoch,
          channel: Number(e.channel),
          mode: String(e.mode),
          state: "active",
          endReason: "",
          unfinished: 0,
          endedAtMs: 0,
        });
        break;
      case "lease.state": {
        const l = this.leases.get(String(e.leaseId));
        if (l) l.state = String(e.to);
        break;
      }
      case "lease.ended": {
        const l = this.leases.get(String(e.leaseId));
        if (l) Object.assign(l, { state: String(e.state), endReason: String(e.reason), unfinished: 0, endedAtMs: Number(e.atMs) });
        const ended = [...this.leases.values()].filter((x) => x.endReason).sort((a, b) => b.endedAtMs - a.endedAtMs);
        for (const x of ended.slice(MAX_ENDED_LEASES)) this.leases.delete(x.leaseId);
        break;
      }
    }
  }

  stats(s: StatsSample): void {
    for (const sp of s.providers) {
      const p = this.providers.get(key(sp.providerId, sp.epoch));
      if (!p) continue;
      p.state = sp.state;
      p.channels = sp.channels.map((c) => ({ ...c }));
    }
    for (const sl of s.leases) {
      const l = this.leases.get(sl.leaseId);
      if (l && !l.endReason) Object.assign(l, { unfinished: sl.unfinished, state: sl.state });
    }
    const prev = this.last;
    if (prev && s.atMs > prev.atMs) {
      const dt = (s.atMs - prev.atMs) / 1000;
      const rate = (k: keyof StatsSample["cookies"]): number => Math.max(0, (s.cookies[k] - prev.cookies[k]) / dt);
      this.rates.push({ atMs: s.atMs, completed: rate("completed"), accepted: rate("accepted"), failed: rate("failed"), aborted: rate("aborted") });
      if (this.rates.length > MAX_SAMPLES) this.rates.shift();
    }
    this.last = s;
  }
}
