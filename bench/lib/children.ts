import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { killAllServices } from "@dmabroker/testkit";

/**
 * Processes the bench starts besides the testkit's services (relay, echo,
 * etcd). Every one is killed by pid when the bench ends, however it ends.
 */
const children = new Set<ChildProcess>();
const killers = new Set<() => Promise<void>>();

process.once("exit", () => {
  for (const c of children) if (c.pid && c.exitCode === null) process.kill(c.pid, "SIGKILL");
});

/** A child process the bench owns, with its output lines and a wait for one of them. */
export interface OwnedChild {
  child: ChildProcess;
  /** Resolves with the first output line matching `match`; rejects after timeoutMs or on exit. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number, what: string): Promise<string>;
  /** SIGKILL by pid and wait for the exit. */
  kill(): Promise<void>;
  /** Last lines of output, for error messages. */
  tail(): string;
}

/** Spawns a tracked child; stdout and stderr are kept (bounded) for waits and errors. */
export function spawnOwned(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; name: string }): OwnedChild {
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => children.delete(child));
  const lines: string[] = [];
  const watchers = new Set<(l: string) => void>();
  const onLine = (l: string): void => {
    lines.push(l);
    if (lines.length > 200) lines.shift();
    for (const w of watchers) w(l);
  };
  createInterface({ input: child.stdout }).on("line", onLine);
  createInterface({ input: child.stderr }).on("line", onLine);
  child.once("error", (err) => onLine(`spawn error: ${err.message}`));
  const tail = (): string => lines.slice(-20).join("\n");
  const kill = async (): Promise<void> => {
    if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
    await exited;
  };
  killers.add(kill);
  void exited.then(() => killers.delete(kill));
  return {
    kill,
    child,
    tail,
    waitForLine(match, timeoutMs, what) {
      const past = lines.find(match);
      if (past !== undefined) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const done = (fn: () => void): void => {
          clearTimeout(timer);
          watchers.delete(watcher);
          fn();
        };
        const watcher = (l: string): void => {
          if (match(l)) done(() => resolve(l));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${options.name}: no ${what} within ${timeoutMs} ms\n${tail()}`))), timeoutMs);
        watchers.add(watcher);
        void exited.then(() => done(() => reject(new Error(`${options.name} exited before ${what}\n${tail()}`))));
      });
    },
  };
}

/** Kills every process the bench started (its own and the testkit's), by pid. */
export async function killEverything(): Promise<void> {
  await Promise.all([...killers].map((k) => k()));
  await killAllServices();
}
