import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "./repo-root.js";

/** How a service is started: from TypeScript sources (tsx, no build) or from dist (as images do). */
export type RunMode = "source" | "dist";

/** A parsed pino log line (JSON), or the raw text when it is not JSON. */
export type LogLine = Record<string, unknown> & { msg?: string; raw: string };

const live = new Set<ServiceProcess>();

// Last line of defence: if the test process exits without teardown (a crash, a
// killed worker), its children must not outlive it.
process.once("exit", () => {
  for (const p of live) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/**
 * One service running as a real child process. Its JSON log lines are parsed
 * and kept (bounded) so tests can wait for one; `kill()` signals it by pid.
 * Every ServiceProcess is tracked so `killAllServices()` can clean up.
 */
export class ServiceProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly watchers = new Set<(line: LogLine) => void>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    live.add(this);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve({ code, signal });
      });
    });
    const onLine = (text: string): void => {
      let line: LogLine;
      try {
        line = { ...(JSON.parse(text) as Record<string, unknown>), raw: text };
      } catch {
        line = { raw: text };
      }
      this.lines.push(line);
      if (this.lines.length > 5000) this.lines.splice(0, 1000);
      for (const w of this.watchers) w(line);
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);
  }

  /**
   * Starts `services/<service>/src/main.ts` (source mode, through tsx) or
   * `services/<service>/dist/main.js` (dist mode) with the given flags.
   * `prefix` runs it through a command that execs it in place, e.g.
   * `["ip", "netns", "exec", ns]`, so the pid stays the service's.
   */
  static start(service: string, args: string[], options: { name?: string; mode?: RunMode; env?: NodeJS.ProcessEnv; prefix?: string[] } = {}): ServiceProcess {
    const mode = options.mode ?? "source";
    const entry = mode === "source" ? path.join(REPO_ROOT, "services", service, "src/main.ts") : path.join(REPO_ROOT, "services", service, "dist/main.js");
    const nodeArgs = mode === "source" ? ["--conditions=@dmabroker/source", "--import", "tsx", entry] : [entry];
    const [command = process.execPath, ...argv] = [...(options.prefix ?? []), process.execPath, ...nodeArgs, ...args];
    const child = spawn(command, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new ServiceProcess(options.name ?? service, child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolves with the first log line (past or future) that matches; rejects after timeoutMs or on exit. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs: number, what = "log line"): Promise<LogLine> {
    const past = this.lines.find(match);
    if (past) return Promise.resolve(past);
    return new Promise<LogLine>((resolve, reject) => {
      const done = (fn: () => void): void => {
        clearTimeout(timer);
        this.watchers.delete(watcher);
        fn();
      };
      const watcher = (line: LogLine): void => {
        if (match(line)) done(() => resolve(line));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${this.name} (pid ${this.pid}): no ${what} within ${timeoutMs} ms\n${this.tail()}`))),
        timeoutMs,
      );
      this.watchers.add(watcher);
      void this.exited.then((info) =>
        done(() => reject(new Error(`${this.name} (pid ${this.pid}) exited (${info.code ?? info.signal}) before ${what}\n${this.tail()}`))),
      );
    });
  }

  /** Calls `fn` with every log line from now on (all of them, unlike the bounded `lines`). Returns the unsubscribe function. */
  onLine(fn: (line: LogLine) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** Sends a signal by pid (SIGKILL = hot unplug; SIGSTOP = freeze; SIGTERM = graceful). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.running && this.child.pid) process.kill(this.child.pid, signal);
  }

  /** Signals and waits (bounded) for exit; escalates to SIGKILL after timeoutMs. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    this.kill("SIGCONT");
    this.kill(signal);
    const timer = setTimeout(() => this.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last log lines, for failure messages. */
  tail(n = 30): string {
    return this.lines
      .slice(-n)
      .map((l) => l.raw)
      .join("\n");
  }
}

/** Kills every service process still running (SIGKILL, by pid) and waits for them to exit. */
export async function killAllServices(): Promise<void> {
  const all = [...live];
  for (const p of all) {
    p.kill("SIGCONT");
    p.kill("SIGKILL");
  }
  await Promise.all(all.map((p) => p.exited));
}

/** Number of service processes still running (a leak check for teardown). */
export function runningServiceCount(): number {
  return live.size;
}
