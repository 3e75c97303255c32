import type { CaseFamily } from "../case-context.js";
import { adminCorruptFamily, adminRouteFamily, adminTransportFamily } from "./admin.js";
import { attachLimitsFamily } from "./attach-limits.js";
import { attachCorruptFamily, attachRegisterFamily, attachSequenceFamily, attachSilentFamily } from "./attach.js";
import { clientCorruptFamily, clientMetadataFamily } from "./client-corrupt.js";
import { clientLimitsFamily } from "./client-limits.js";
import { clientRpcFamily } from "./client-rpc.js";
import { clientSequenceFamily } from "./client-sequences.js";
import { hostileProviderFamily } from "./hostile-provider.js";

/** Every family of hostile input, by name. */
export const FAMILIES: Record<string, CaseFamily<never>> = Object.fromEntries(
  [
    clientRpcFamily,
    clientCorruptFamily,
    clientMetadataFamily,
    clientLimitsFamily,
    clientSequenceFamily,
    attachRegisterFamily,
    attachSequenceFamily,
    attachSilentFamily,
    attachCorruptFamily,
    hostileProviderFamily,
    attachLimitsFamily,
    adminRouteFamily,
    adminCorruptFamily,
    adminTransportFamily,
  ].map((f) => [f.name, f as CaseFamily<never>]),
);
export const FAMILY_NAMES: readonly string[] = Object.keys(FAMILIES);

/** The families CI runs: every one, the size limits included (each refused at or before its length prefix, so cheap). */
export const CI_FAMILY_NAMES: readonly string[] = FAMILY_NAMES;
