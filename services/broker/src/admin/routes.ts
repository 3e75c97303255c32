import { DmaError, isLiveLeaseState, snapshotLease } from "@dmabroker/core";
import type { BrokerCore, Page, PageRequest } from "@dmabroker/core";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { ProblemError, problemOf } from "./problem.js";
import {
  BindReport,
  Channel,
  ChannelParam,
  ChannelRemovalReport,
  ChannelRemoveBody,
  ChannelsQuery,
  IdParam,
  Lease,
  LeasesQuery,
  Provider,
  ProviderDetail,
  ProvidersQuery,
  RevokeQuery,
  RevokeReport,
  StoreInfo,
  UnbindBody,
  UnbindReport,
  LIST_PAGE_DEFAULT,
  problems,
} from "./schemas.js";
import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";

/** Parses `key=value` label filters (one string or several). */
function labelFilter(label: string | string[] | undefined): [string, string][] {
  const list = label === undefined ? [] : Array.isArray(label) ? label : [label];
  return list.map((l) => {
    const i = l.indexOf("=");
    return [l.slice(0, i), l.slice(i + 1)];
  });
}

/** The core's page window of a REST listing: `limit` items from `pageToken` (an offset). */
function pageRequest(q: { limit?: number; pageToken?: string }): PageRequest {
  return { offset: q.pageToken ? Number(q.pageToken) : 0, limit: q.limit ?? LIST_PAGE_DEFAULT };
}

/** The REST form of a core page: the token of the next page, if any. */
function nextPage(page: Page<unknown>): { nextPageToken?: string } {
  return page.nextOffset === undefined ? {} : { nextPageToken: String(page.nextOffset) };
}

/** The /v1 operator routes over a BrokerCore. Every action on a provider or lease is logged with its ids. */
export function registerV1Routes(fastify: FastifyInstance, core: BrokerCore, log: Logger): void {
  // Request types come from the route schemas (params, querystring, body): no casts.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/v1/store",
    {
      schema: {
        summary: "The broker's store: where it keeps its records, how durably, how big, the last snapshot",
        tags: ["store"],
        response: { 200: Type.Ref(StoreInfo), ...problems(401, 403) },
      },
    },
    async () => core.store.info(),
  );
  app.get(
    "/v1/providers",
    {
      schema: {
        summary: "List providers (present ones, then tombstones still pinned by leases)",
        tags: ["providers"],
        querystring: ProvidersQuery,
        response: { 200: Type.Object({ providers: Type.Array(Type.Ref(Provider)), nextPageToken: Type.Optional(Type.String()) }), ...problems(400, 401, 403) },
      },
    },
    async (req) => {
      const q = req.query;
      const page = core.listProviders({ state: q.state, labels: labelFilter(q.label) }, pageRequest(q));
      return { providers: page.items, ...nextPage(page) };
    },
  );

  app.get(
    "/v1/providers/:id",
    {
      schema: {
        summary: "One provider id: its newest incarnation with channels and counters, live leases, epoch history, unbind state",
        tags: ["providers"],
        params: IdParam,
        response: { 200: Type.Ref(ProviderDetail), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id } = req.params;
      const d = core.describeProvider(id);
      const channels = d.provider?.channels ?? [];
      const sum = (f: (c: (typeof channels)[number]) => number): number => channels.reduce((n, c) => n + f(c), 0);
      return {
        providerId: id,
        provider: d.provider ?? null,
        leases: d.leases,
        counters: {
          leases: d.leases.length,
          outstanding: sum((c) => c.outstanding),
          completed: sum((c) => c.completed),
          failed: sum((c) => c.failed),
          queueDepth: sum((c) => c.queueDepth),
        },
        history: d.history,
        unbound: d.unbound ?? null,
      };
    },
  );

  app.post(
    "/v1/providers/:id/unbind",
    {
      schema: {
        summary: "Unbind a provider (like sysfs unbind); it may not register again until bound",
        description:
          "polite is refused with 409 PROVIDER_BUSY (listing the leases) while leases exist, like `accel-config disable-wq` without --force. drain stops new leases and submits, lets issued work finish until timeoutMs, then aborts the rest with PROVIDER_GONE. force ends everything now. dryRun reports what would be affected.",
        tags: ["providers"],
        params: IdParam,
        body: UnbindBody,
        response: { 200: Type.Ref(UnbindReport), ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const { id } = req.params;
      const body = req.body;
      try {
        const report = core.unbindProvider(id, { mode: body.mode, timeoutMs: body.timeoutMs, dryRun: body.dryRun, reason: body.reason });
        log.info(
          {
            event: "admin.unbind",
            provider_id: id,
            epoch: report.epoch,
            mode: report.mode,
            dry_run: report.dryRun,
            already_unbound: report.alreadyUnbound,
            lease_ids: report.leases.map((l) => l.leaseId),
            unfinished: report.unfinishedCookies,
            state: report.state,
          },
          report.dryRun ? "unbind dry run" : "provider unbound by an operator",
        );
        return report;
      } catch (err) {
        const e = DmaError.from(err);
        if (e.reason !== "PROVIDER_BUSY") throw e;
        // The refusal lists the leases in full (who holds which channel, how much is unfinished).
        const leases = core.unbindProvider(id, { mode: "force", dryRun: true }).leases;
        log.info(
          { event: "admin.unbind_refused", provider_id: id, mode: body.mode, lease_ids: leases.map((l) => l.leaseId) },
          "polite unbind refused: leases hold the provider",
        );
        throw new ProblemError(problemOf(e, req.url, leases));
      }
    },
  );

  app.post(
    "/v1/providers/:id/bind",
    {
      schema: {
        summary: "Let an unbound provider id register again (like sysfs bind)",
        tags: ["providers"],
        params: IdParam,
        response: { 200: Type.Ref(BindReport), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id } = req.params;
      const wasUnbound = core.bindProvider(id);
      if (!wasUnbound && !core.providerSnapshot(id) && core.providerHistory(id).length === 0) {
        throw new DmaError("PROVIDER_NOT_FOUND", `no provider ${JSON.stringify(id)} is known or unbound`, { provider_id: id });
      }
      log.info(
        { event: "admin.bind", provider_id: id, was_unbound: wasUnbound },
        wasUnbound ? "provider bound by an operator" : "bind: provider was not unbound",
      );
      return { providerId: id, wasUnbound };
    },
  );

  app.post(
    "/v1/providers/:id/channels/:index/remove",
    {
      schema: {
        summary: "Hot-remove one channel: only its leases end (PROVIDER_GONE)",
        tags: ["providers"],
        params: ChannelParam,
        body: Type.Optional(ChannelRemoveBody),
        response: { 200: Type.Ref(ChannelRemovalReport), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id, index } = req.params;
      const body = req.body ?? {};
      const report = core.removeChannel(id, index, { dryRun: body.dryRun, reason: body.reason });
      log.info(
        {
          event: "admin.channel_remove",
          provider_id: id,
          epoch: report.epoch,
          channel: index,
          dry_run: report.dryRun,
          lease_ids: report.leases.map((l) => l.leaseId),
        },
        report.dryRun ? "channel removal dry run" : "channel removed by an operator",
      );
      return report;
    },
  );

  app.get(
    "/v1/channels",
    {
      schema: {
        summary: "Every channel of every present provider",
        tags: ["channels"],
        querystring: ChannelsQuery,
        response: { 200: Type.Object({ channels: Type.Array(Type.Ref(Channel)) }), ...problems(400, 401, 403) },
      },
    },
    async (req) => {
      const q = req.query;
      const channels: Channel[] = core.listChannels({ providerId: q.provider || undefined, free: q.free });
      return { channels };
    },
  );

  app.get(
    "/v1/leases",
    {
      schema: {
        summary: "List leases (live, then tombstones of ended ones)",
        tags: ["leases"],
        querystring: LeasesQuery,
        response: { 200: Type.Object({ leases: Type.Array(Type.Ref(Lease)), nextPageToken: Type.Optional(Type.String()) }), ...problems(400, 401, 403) },
      },
    },
    async (req) => {
      const q = req.query;
      const page = core.listLeases({ clientId: q.client || undefined, providerId: q.provider || undefined, state: q.state }, pageRequest(q));
      return { leases: page.items, ...nextPage(page) };
    },
  );

  app.get(
    "/v1/leases/:id",
    {
      schema: {
        summary: "One lease (live or tombstone)",
        tags: ["leases"],
        params: IdParam,
        response: { 200: Type.Ref(Lease), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id } = req.params;
      const lease = core.leaseSnapshot(id);
      if (!lease) throw new DmaError("LEASE_NOT_FOUND", `no lease ${JSON.stringify(id)}`, { lease_id: id });
      return lease;
    },
  );

  app.delete(
    "/v1/leases/:id",
    {
      schema: {
        summary: "Revoke a lease: its unfinished cookies end ABORTED / LEASE_REVOKED, later calls get LEASE_REVOKED",
        tags: ["leases"],
        params: IdParam,
        querystring: RevokeQuery,
        response: { 200: Type.Ref(RevokeReport), ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id } = req.params;
      const { reason } = req.query;
      const before = core.leaseSnapshot(id);
      const wasLive = before !== undefined && isLiveLeaseState(before.state);
      const lease = core.revoke(id, reason ? `revoked by an operator: ${reason}` : "revoked by an operator");
      log.info(
        {
          event: "admin.revoke",
          lease_id: id,
          client_id: lease.owner,
          provider_id: lease.provider.id,
          epoch: lease.provider.epoch,
          revoked: wasLive,
          reason: reason ?? "",
        },
        wasLive ? "lease revoked by an operator" : "revoke: lease had ended already",
      );
      return { revoked: wasLive, lease: snapshotLease(lease) };
    },
  );
}
