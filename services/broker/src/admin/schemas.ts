import { Type } from "@sinclair/typebox";
import type { Static, TSchema, TUnsafe } from "@sinclair/typebox";

/** A string enum as plain JSON Schema `enum` (clear validation messages, compact OpenAPI). */
const StringEnum = <T extends string>(values: readonly T[], options: { description?: string } = {}): TUnsafe<T> =>
  Type.Unsafe<T>({ type: "string", enum: [...values], ...options });

// The admin API's request and response shapes (TypeBox → JSON Schema). Fastify
// validates requests and serialises responses with them, and @fastify/swagger
// turns them into the OpenAPI document at /docs/json. Response schemas list
// every field: fast-json-stringify drops what a schema does not name, and the
// inject tests compare responses with core's snapshots to catch a gap.

const ProviderState = StringEnum(["online", "suspect", "draining", "lost", "removed", "freed"] as const);
const LeaseState = StringEnum(["active", "suspended", "released", "expired", "revoked", "provider_gone"] as const);
const LeaseMode = StringEnum(["exclusive", "shared"] as const);

export const Constraints = Type.Object(
  {
    maxTransferBytes: Type.Integer(),
    alignment: Type.Integer(),
    maxXorSources: Type.Integer(),
  },
  { $id: "Constraints" },
);

export const ChannelSnapshot = Type.Object(
  {
    index: Type.Integer(),
    queueDepth: Type.Integer(),
    leases: Type.Integer(),
    outstanding: Type.Integer({ description: "Cookies accepted on this channel and not yet terminal (its queue depth in use)." }),
    exclusive: Type.Boolean(),
    completed: Type.Integer(),
    failed: Type.Integer(),
  },
  { $id: "ChannelSnapshot" },
);

export const Provider = Type.Object(
  {
    providerId: Type.String(),
    epoch: Type.Integer({ description: "Incarnation number; a re-registration gets a new, larger one." }),
    state: ProviderState,
    labels: Type.Record(Type.String(), Type.String()),
    capabilityMask: Type.Integer(),
    constraints: Type.Ref(Constraints),
    ordering: StringEnum(["in-order", "out-of-order"] as const),
    public: Type.Boolean(),
    profile: Type.String(),
    channels: Type.Array(Type.Ref(ChannelSnapshot)),
    refs: Type.Integer({ description: "Lease records (live or tombstone) pinning this incarnation." }),
    registeredAtMs: Type.Integer(),
    endReason: Type.String(),
  },
  { $id: "Provider" },
);
export type Provider = Static<typeof Provider>;

export const Lease = Type.Object(
  {
    leaseId: Type.String(),
    clientId: Type.String(),
    providerId: Type.String(),
    epoch: Type.Integer(),
    channel: Type.Integer(),
    mode: LeaseMode,
    ttlMs: Type.Integer(),
    expiresAtMs: Type.Integer(),
    capabilityMask: Type.Integer(),
    constraints: Type.Ref(Constraints),
    state: LeaseState,
    endReason: Type.String({ description: "LEASE_RELEASED, LEASE_EXPIRED, LEASE_REVOKED or PROVIDER_GONE once ended; empty while live." }),
    endedAtMs: Type.Integer(),
    unfinished: Type.Integer({ description: "Cookies accepted and not yet terminal." }),
    lastCookie: Type.Integer(),
  },
  { $id: "Lease" },
);

export const Incarnation = Type.Object(
  {
    epoch: Type.Integer(),
    registeredAtMs: Type.Integer(),
    endedAtMs: Type.Integer({ description: "0 while present." }),
    endState: Type.String(),
    endReason: Type.String(),
  },
  { $id: "Incarnation" },
);

export const ProviderDetail = Type.Object(
  {
    providerId: Type.String(),
    provider: Type.Union([Type.Ref(Provider), Type.Null()], { description: "The newest incarnation; null once freed." }),
    leases: Type.Array(Type.Ref(Lease), { description: "Live leases on the newest incarnation." }),
    counters: Type.Object({
      leases: Type.Integer(),
      outstanding: Type.Integer(),
      completed: Type.Integer(),
      failed: Type.Integer(),
      queueDepth: Type.Integer(),
    }),
    history: Type.Array(Type.Ref(Incarnation), { description: "The last incarnations of this id, oldest first." }),
    unbound: Type.Union([Type.Object({ atWallMs: Type.Integer(), reason: Type.String() }), Type.Null()], {
      description: "Set while an operator has unbound the id: it may not register until bound.",
    }),
  },
  { $id: "ProviderDetail" },
);

export const Channel = Type.Object(
  {
    providerId: Type.String(),
    epoch: Type.Integer(),
    providerState: ProviderState,
    index: Type.Integer(),
    queueDepth: Type.Integer(),
    leases: Type.Integer(),
    outstanding: Type.Integer(),
    exclusive: Type.Boolean(),
    removed: Type.Boolean({ description: "Hot-removed by an operator; takes no leases for the rest of this incarnation." }),
    completed: Type.Integer(),
    failed: Type.Integer(),
  },
  { $id: "Channel" },
);
export type Channel = Static<typeof Channel>;

export const AffectedLease = Type.Object(
  {
    leaseId: Type.String(),
    clientId: Type.String(),
    channel: Type.Integer(),
    mode: LeaseMode,
    unfinished: Type.Integer(),
  },
  { $id: "AffectedLease" },
);

export const UnbindBody = Type.Object(
  {
    mode: StringEnum(["polite", "drain", "force"] as const, {
      description:
        "polite: refused (409 PROVIDER_BUSY) while leases exist; drain: no new leases, issued work may finish until timeoutMs, then the rest is aborted; force: everything ends now.",
    }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0, description: "drain: how long issued work may take." })),
    dryRun: Type.Optional(Type.Boolean({ description: "Report what would be affected; change nothing." })),
    reason: Type.Optional(Type.String({ maxLength: 256, description: "Recorded on the provider and in the leases' end detail." })),
  },
  { additionalProperties: false },
);
export type UnbindBody = Static<typeof UnbindBody>;

export const UnbindReport = Type.Object(
  {
    providerId: Type.String(),
    epoch: Type.Integer(),
    mode: Type.String(),
    dryRun: Type.Boolean(),
    alreadyUnbound: Type.Boolean(),
    leases: Type.Array(Type.Ref(AffectedLease)),
    unfinishedCookies: Type.Integer(),
    state: ProviderState,
  },
  { $id: "UnbindReport" },
);

export const BindReport = Type.Object(
  {
    providerId: Type.String(),
    wasUnbound: Type.Boolean({ description: "False when the id was not unbound (nothing changed)." }),
  },
  { $id: "BindReport" },
);

export const ChannelRemoveBody = Type.Object(
  {
    dryRun: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type ChannelRemoveBody = Static<typeof ChannelRemoveBody>;

export const ChannelRemovalReport = Type.Object(
  {
    providerId: Type.String(),
    epoch: Type.Integer(),
    channel: Type.Integer(),
    dryRun: Type.Boolean(),
    leases: Type.Array(Type.Ref(AffectedLease)),
  },
  { $id: "ChannelRemovalReport" },
);

export const RevokeReport = Type.Object(
  {
    revoked: Type.Boolean({ description: "False when the lease had ended already (its record is returned as it is)." }),
    lease: Type.Ref(Lease),
  },
  { $id: "RevokeReport" },
);

/** RFC 9457 problem details, with the same reason string gRPC carries in ErrorInfo. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: "urn:dmabroker:reason:<REASON> (see docs/errors.md)." }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String({ description: "The stable reason, e.g. PROVIDER_BUSY (absent only for unknown routes)." })),
    metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
    leases: Type.Optional(Type.Array(Type.Ref(AffectedLease), { description: "PROVIDER_BUSY: the leases holding the provider." })),
  },
  { $id: "Problem", additionalProperties: true },
);
export type Problem = Static<typeof Problem>;

export const Status = Type.Object({ status: Type.String(), providers: Type.Optional(Type.Integer()) }, { $id: "Status" });

/** Every schema with an $id: registered once with app.addSchema so routes and OpenAPI refer to them by name. */
export const StoreInfo = Type.Object(
  {
    kind: Type.Union([Type.Literal("memory"), Type.Literal("file")], {
      description: "file: the log and snapshot under --data-dir; memory: nothing survives a restart.",
    }),
    path: Type.String({ description: "The data dir (empty in memory)." }),
    durability: Type.Union([Type.Literal("always"), Type.Literal("interval"), Type.Literal("off")]),
    revision: Type.Integer({ description: "The last durable revision (one per committed batch)." }),
    sizeBytes: Type.Integer({ description: "Log plus snapshot on disk." }),
    logBytes: Type.Integer({ description: "The log since the last snapshot." }),
    snapshotRevision: Type.Integer({ description: "Revision of the last snapshot (0: none yet)." }),
    snapshotAtMs: Type.Integer({ description: "Wall time of the last snapshot, ms since the epoch (0: none yet)." }),
  },
  { $id: "StoreInfo" },
);

export const SHARED_SCHEMAS: readonly TSchema[] = [
  StoreInfo,
  Constraints,
  ChannelSnapshot,
  Provider,
  Lease,
  Incarnation,
  ProviderDetail,
  Channel,
  AffectedLease,
  UnbindReport,
  BindReport,
  ChannelRemovalReport,
  RevokeReport,
  Problem,
  Status,
];

const problemRef = Type.Ref(Problem);

/** Response schemas for the error statuses a route can answer with. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, problemRef]));
}

export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export const ChannelParam = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  index: Type.Integer({ minimum: 0, maximum: 255 }),
});

/** Paging of the list routes: every answer is bounded; `nextPageToken` in an answer means more follow. */
export const LIST_PAGE_DEFAULT = 1000;
export const LIST_PAGE_MAX = 10_000;
const paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_PAGE_MAX, description: `Most items in this answer (default ${LIST_PAGE_DEFAULT}).` })),
  pageToken: Type.Optional(Type.String({ maxLength: 32, pattern: "^[0-9]*$", description: "nextPageToken of the previous answer." })),
};

export const ProvidersQuery = Type.Object(
  {
    state: Type.Optional(ProviderState),
    label: Type.Optional(
      Type.Union(
        [Type.String({ pattern: "^[^=]+=.*$", maxLength: 512 }), Type.Array(Type.String({ pattern: "^[^=]+=.*$", maxLength: 512 }), { maxItems: 32 })],
        {
          description: "key=value; repeat for several (all must match).",
        },
      ),
    ),
    ...paging,
  },
  { additionalProperties: false },
);
export type ProvidersQuery = Static<typeof ProvidersQuery>;

export const LeasesQuery = Type.Object(
  {
    client: Type.Optional(Type.String({ maxLength: 128 })),
    provider: Type.Optional(Type.String({ maxLength: 128 })),
    state: Type.Optional(LeaseState),
    ...paging,
  },
  { additionalProperties: false },
);
export type LeasesQuery = Static<typeof LeasesQuery>;

export const ChannelsQuery = Type.Object(
  {
    provider: Type.Optional(Type.String({ maxLength: 128 })),
    free: Type.Optional(Type.Boolean({ description: "true: only channels with no lease and not removed." })),
  },
  { additionalProperties: false },
);
export type ChannelsQuery = Static<typeof ChannelsQuery>;

export const RevokeQuery = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false });

export const EventsQuery = Type.Object(
  {
    types: Type.Optional(Type.String({ maxLength: 1024, description: "Comma-separated event type prefixes, e.g. provider.,lease.ended" })),
    stats: Type.Optional(
      Type.Integer({
        minimum: 250,
        maximum: 60_000,
        description: "Also send a `stats` message (cookie counters, channel occupancy, cookies in flight per lease) every this many ms",
      }),
    ),
  },
  { additionalProperties: false },
);

export const SessionBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
export type SessionBody = Static<typeof SessionBody>;

export const SessionStatus = Type.Object({
  authRequired: Type.Boolean({ description: "The admin API has a token: the console must sign in" }),
  signedIn: Type.Boolean({ description: "This request carries a valid session (always true without a token)" }),
});
export type SessionStatus = Static<typeof SessionStatus>;
