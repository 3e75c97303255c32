import { DmaError } from "./dma-error.js";
import type { LeaseMode } from "./lease-record.js";
import type { ChannelRecord, ProviderRecord } from "./provider-record.js";

/** What a client asks for. */
export interface ChannelRequest {
  capabilityMask: number;
  labels: Record<string, string>;
  providerId?: string;
  mode: LeaseMode;
}

/** Whether a provider could ever serve the request (ignoring current load and state). */
export function couldServe(p: ProviderRecord, req: ChannelRequest): boolean {
  if (req.providerId && p.id !== req.providerId) return false;
  if ((p.spec.capabilityMask & req.capabilityMask) !== req.capabilityMask) return false;
  if (req.mode === "shared" && !p.spec.public) return false;
  for (const key in req.labels) {
    if (p.spec.labels[key] !== req.labels[key]) return false;
  }
  return true;
}

/**
 * Picks a channel: exclusive → a channel nobody holds; shared → a public
 * channel without an exclusive holder, least loaded first (fewest leases, then
 * fewest outstanding cookies). Throws NO_PROVIDER when nothing registered could
 * ever match and NO_CHANNEL_AVAILABLE when matches exist but none is free now.
 */
export function selectChannel(providers: Iterable<ProviderRecord>, req: ChannelRequest): ChannelRecord {
  let anyMatch = false;
  let best: ChannelRecord | undefined;
  let bestScore = Infinity;
  for (const p of providers) {
    if (!p.present || !couldServe(p, req)) continue;
    anyMatch = true;
    if (p.state !== "online") continue;
    for (const ch of p.channels) {
      if (ch.removed) continue;
      let score: number;
      if (req.mode === "exclusive") {
        if (ch.leaseCount !== 0) continue;
        // Spread exclusive leases over providers: prefer the least-leased provider.
        score = p.leases.size;
      } else {
        if (ch.exclusive) continue;
        score = ch.shared.size * 1_000_000 + ch.outstanding;
      }
      if (score < bestScore) {
        bestScore = score;
        best = ch;
        if (score === 0) break;
      }
    }
    if (bestScore === 0) break;
  }
  if (best) return best;
  if (!anyMatch) {
    throw new DmaError("NO_PROVIDER", "no registered provider could ever serve this request", {
      capability_mask: String(req.capabilityMask),
      mode: req.mode,
    });
  }
  throw new DmaError("NO_CHANNEL_AVAILABLE", "matching providers exist but no channel is free now", { mode: req.mode });
}
