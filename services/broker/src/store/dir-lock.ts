import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DmaError } from "@dmabroker/core";

/**
 * One broker per data dir: an exclusive lock file (`LOCK`, created with
 * O_CREAT|O_EXCL) holding the owner's pid and its start time. A lock left by a
 * process that is gone (SIGKILL, a crash, a container restart) is stale and
 * taken over; one held by a live process refuses the start with STORE_LOCKED.
 *
 * Why not flock(2) or a library: Node has no flock, and the small lock
 * libraries (proper-lockfile) judge staleness by mtime, refreshed by a timer
 * on the event loop — a stalled loop looks dead. The pid plus the kernel's
 * start time of that pid (/proc/<pid>/stat) tells a live owner from a reused
 * pid without timers; where /proc is missing the pid alone decides.
 */
export const LOCK_FILE = "LOCK";

export interface DirLock {
  readonly path: string;
  release(): void;
}

interface LockBody {
  pid: number;
  startTime: string;
}

export function lockDataDir(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  const body: LockBody = { pid: process.pid, startTime: startTimeOf(process.pid) ?? "" };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw lockError(path, err);
      const holder = readHolder(path);
      if (holder && isAlive(holder)) {
        throw new DmaError("STORE_LOCKED", `${dir} is in use by another broker (pid ${holder.pid}, lock file ${path}); one broker per data dir`, {
          pid: String(holder.pid),
          path,
        });
      }
      // Stale (its owner is gone) or unreadable (a crash while writing it): take it over.
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw lockError(path, e);
      }
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(body) + "\n");
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        // Only our own lock: a broker that lost it (an operator deleted it) must not delete the next one's.
        if (readHolder(path)?.pid === body.pid) {
          try {
            unlinkSync(path);
          } catch {
            // Gone already.
          }
        }
      },
    };
  }
}

function lockError(path: string, err: unknown): DmaError {
  return new DmaError("STORE_LOCKED", `cannot take the data dir lock ${path}: ${(err as Error).message}`, { path });
}

function readHolder(path: string): LockBody | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LockBody>;
    if (!Number.isSafeInteger(parsed.pid) || (parsed.pid as number) <= 0) return undefined;
    return { pid: parsed.pid as number, startTime: typeof parsed.startTime === "string" ? parsed.startTime : "" };
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockBody): boolean {
  // Our own pid in a lock we did not take is a previous life of this pid (a container's pid 1 after a restart).
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = startTimeOf(holder.pid);
  // A different start time: the pid was reused by another process after the owner died.
  return !(holder.startTime && now !== undefined && now !== holder.startTime);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined without /proc. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}
