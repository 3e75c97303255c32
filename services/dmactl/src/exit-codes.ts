/**
 * dmactl's exit codes (documented in the README's operator section). Scripts
 * may rely on them; a new failure kind gets a new code, never a reused one.
 */
export const EXIT = {
  /** Everything worked (a copy: every chunk verified). */
  OK: 0,
  /** The work ran but not all of it succeeded: a copy has chunks that are not verified; a held lease was ended by the broker. */
  FAILED: 1,
  /** Bad command line (unknown command or flag, bad size). Nothing was sent. */
  USAGE: 2,
  /** The broker or the admin API could not be reached (refused, timed out, connection lost). */
  UNREACHABLE: 3,
  /** The broker answered with a refusal: a named reason such as PROVIDER_BUSY, PROVIDER_NOT_FOUND, NO_CHANNEL_AVAILABLE. */
  REFUSED: 4,
  /** The admin API wants a token (ADMIN_TOKEN_MISSING) or refused it (ADMIN_TOKEN_INVALID): set DMABROKER_ADMIN_TOKEN. */
  AUTH: 5,
  /** Interrupted (Ctrl-C) before a copy finished; leases were released. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
