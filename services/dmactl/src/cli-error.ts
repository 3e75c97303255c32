import { DmaBrokerError } from "@dmabroker/client";
import { EXIT } from "./exit-codes.js";
import type { ExitCode } from "./exit-codes.js";

/** Reasons that mean "could not talk to the broker" rather than "the broker said no". */
const UNREACHABLE_REASONS = new Set(["TRANSPORT_FAILURE", "DEADLINE_EXCEEDED", "SHUTTING_DOWN"]);

/**
 * Reasons are dmabroker's own (packages/core reasons.ts): what the broker or
 * admin API answered, TRANSPORT_FAILURE when it could not be reached,
 * INVALID_ARGUMENT for a bad command line.
 *
 * A failure dmactl reports as one line (`dmactl: REASON: message`) and an exit
 * code, never as a stack trace.
 */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly reason: string,
    message: string,
    /** Extra lines printed after the first (e.g. the leases holding a provider). */
    readonly details: string[] = [],
  ) {
    super(message);
  }

  /** Normalises anything thrown into a CliError. */
  static from(err: unknown): CliError {
    if (err instanceof CliError) return err;
    if (err instanceof DmaBrokerError) {
      const code = err.reason === "CANCELLED" ? EXIT.INTERRUPTED : UNREACHABLE_REASONS.has(err.reason) ? EXIT.UNREACHABLE : EXIT.REFUSED;
      return new CliError(code, err.reason, err.message);
    }
    const message = err instanceof Error ? err.message : String(err);
    return new CliError(EXIT.FAILED, "INTERNAL", message);
  }
}

/** A usage error (exit 2): the command line itself is invalid (reason INVALID_ARGUMENT, as the broker would say). */
export const usage = (message: string): CliError => new CliError(EXIT.USAGE, "INVALID_ARGUMENT", message);
