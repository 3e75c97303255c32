// What the console knows: built from one REST load, then kept current by the
// /v1/events stream alone (registry events, and `stats` samples for what
// moves with every cookie). Every change calls `onChange` once per frame.

const MAX_EVENTS = 200;
const MAX_ENDED_LEASES = 50;
export const MAX_SAMPLES = 60;
const MAX_DETECTIONS = 30;
/** A provider incarnation freed by the broker stays on screen this long, greyed, so an unplug is seen. */
const GONE_LINGER_MS = 15_000;

const key = (providerId, epoch) => `${providerId}#${epoch}`;

export class Model {
  constructor(onChange) {
    this.onChange = onChange;
    /** key → { providerId, epoch, state, profile, labels, channels: [{index, queueDepth, leases, outstanding, removed}], endReason, goneAt } */
    this.providers = new Map();
    /** leaseId → LeaseSnapshot-like */
    this.leases = new Map();
    /** provider ids unbound by an operator during this page's life (bind lifts it). */
    this.unbound = new Set();
    this.events = [];
    /** { atMs, completedPerS, acceptedPerS } */
    this.throughput = [];
    /** { atMs, providerId, ms, cause } */
    this.detections = [];
    this.lastStats = undefined;
    this.scheduled = false;
  }

  changed() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.onChange(this);
    });
  }

  /** The REST snapshot: replaces everything but the event log and the charts. */
  load({ providers, channels, leases }) {
    const removed = new Set(channels.filter((c) => c.removed).map((c) => `${key(c.providerId, c.epoch)}/${c.index}`));
    this.providers.clear();
    for (const p of providers) this.putProvider(p, removed);
    this.leases.clear();
    for (const l of leases) this.leases.set(l.leaseId, { ...l });
    this.changed();
  }

  putProvider(p, removed = new Set()) {
    const k = key(p.providerId, p.epoch);
    this.providers.set(k, {
      providerId: p.providerId,
      epoch: p.epoch,
      state: p.state,
      profile: p.profile,
      labels: p.labels ?? {},
      endReason: p.endReason ?? "",
      channels: (p.channels ?? []).map((c) => ({
        index: c.index,
        queueDepth: c.queueDepth,
        leases: c.leases,
        outstanding: c.outstanding,
        removed: removed.has(`${k}/${c.index}`),
      })),
      goneAt: 0,
    });
  }

  provider(providerId, epoch) {
    return this.providers.get(key(providerId, epoch));
  }

  /** One message of the event stream. Returns a provider id whose details should be fetched, if any. */
  apply(e) {
    this.events.unshift(e);
    if (this.events.length > MAX_EVENTS) this.events.length = MAX_EVENTS;
    let fetch;
    const p = e.providerId !== undefined && e.epoch !== undefined ? this.provider(e.providerId, e.epoch) : undefined;
    switch (e.type) {
      case "provider.registered":
        this.unbound.delete(e.providerId);
        if (!p) {
          this.providers.set(key(e.providerId, e.epoch), {
            providerId: e.providerId,
            epoch: e.epoch,
            state: "online",
            profile: e.profile,
            labels: {},
            endReason: "",
            channels: [],
            goneAt: 0,
          });
        }
        fetch = e.providerId;
        break;
      case "provider.state":
        if (p) {
          p.state = e.to;
          p.endReason = e.reason;
          // Gone: the broker aborted its work and ended its leases; stats samples no longer list it.
          if (e.to === "lost" || e.to === "removed") for (const c of p.channels) Object.assign(c, { outstanding: 0, leases: 0 });
        }
        if (e.to === "lost") {
          this.detections.push({ atMs: e.atMs, providerId: e.providerId, ms: e.sinceHeartbeatMs ?? 0, cause: e.reason });
          if (this.detections.length > MAX_DETECTIONS) this.detections.shift();
        }
        break;
      case "provider.freed":
        if (p) p.goneAt = e.atMs || Date.now();
        break;
      case "provider.unbound":
        this.unbound.add(e.providerId);
        break;
      case "provider.bound":
        this.unbound.delete(e.providerId);
        break;
      case "channel.removed": {
        const c = p?.channels.find((ch) => ch.index === e.channel);
        if (c) c.removed = true;
        break;
      }
      case "lease.granted":
        this.leases.set(e.leaseId, {
          leaseId: e.leaseId,
          clientId: e.clientId,
          providerId: e.providerId,
          epoch: e.epoch,
          channel: e.channel,
          mode: e.mode,
          state: "active",
          endReason: "",
          unfinished: 0,
        });
        break;
      case "lease.state": {
        const l = this.leases.get(e.leaseId);
        if (l) l.state = e.to;
        break;
      }
      case "lease.ended": {
        const l = this.leases.get(e.leaseId) ?? { leaseId: e.leaseId, clientId: e.clientId, providerId: e.providerId, epoch: e.epoch, channel: -1, mode: "?" };
        Object.assign(l, { state: e.state, endReason: e.reason, unfinished: 0, endedAtMs: e.atMs });
        this.leases.set(e.leaseId, l);
        this.trimEndedLeases();
        break;
      }
    }
    this.changed();
    return fetch;
  }

  trimEndedLeases() {
    const ended = [...this.leases.values()].filter((l) => l.endReason);
    ended.sort((a, b) => (b.endedAtMs ?? 0) - (a.endedAtMs ?? 0));
    for (const l of ended.slice(MAX_ENDED_LEASES)) this.leases.delete(l.leaseId);
  }

  /** A `stats` sample: occupancy, cookies in flight, and throughput from the counters' change. */
  stats(s) {
    for (const sp of s.providers) {
      const p = this.provider(sp.providerId, sp.epoch);
      if (!p) continue;
      p.state = sp.state;
      p.channels = sp.channels.map((c) => ({ ...c }));
    }
    for (const sl of s.leases) {
      const l = this.leases.get(sl.leaseId);
      if (l && !l.endReason) {
        l.unfinished = sl.unfinished;
        l.state = sl.state;
      }
    }
    const prev = this.lastStats;
    if (prev && s.atMs > prev.atMs) {
      const dt = (s.atMs - prev.atMs) / 1000;
      this.throughput.push({
        atMs: s.atMs,
        completedPerS: Math.max(0, (s.cookies.completed - prev.cookies.completed) / dt),
        acceptedPerS: Math.max(0, (s.cookies.accepted - prev.cookies.accepted) / dt),
      });
      if (this.throughput.length > MAX_SAMPLES) this.throughput.shift();
    }
    this.lastStats = s;
    const now = s.atMs;
    for (const [k, p] of this.providers) if (p.goneAt && now - p.goneAt > GONE_LINGER_MS) this.providers.delete(k);
    this.changed();
  }
}
