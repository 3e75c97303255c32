import { randomBytes } from "node:crypto";

/** Name of the console's session cookie. */
export const SESSION_COOKIE = "dmabroker_session";

export interface SessionLimits {
  /** A session's lifetime from sign-in (default 8 h, a working shift). */
  ttlMs: number;
  /** Sessions held at once; the oldest is dropped beyond it (default 256). */
  maxSessions: number;
}

const DEFAULT_LIMITS: SessionLimits = { ttlMs: 8 * 3600_000, maxSessions: 256 };

/**
 * Console sign-ins: an opaque random id (256 bits) per session, held in memory
 * with its expiry. The id travels only in an HttpOnly cookie, so the admin
 * token never reaches a URL, page script or EventSource. A broker restart
 * signs everyone out, which is fine for an operator console.
 */
export class SessionStore {
  private readonly sessions = new Map<string, number>();
  private readonly limits: SessionLimits;

  constructor(
    limits: Partial<SessionLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Starts a session; returns its id. */
  create(): string {
    this.prune();
    while (this.sessions.size >= this.limits.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString("base64url");
    this.sessions.set(id, this.now() + this.limits.ttlMs);
    return id;
  }

  valid(id: string): boolean {
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  get ttlMs(): number {
    return this.limits.ttlMs;
  }

  private prune(): void {
    const now = this.now();
    for (const [id, expires] of this.sessions) if (expires <= now) this.sessions.delete(id);
  }
}

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
