import type { Out } from "./admin-commands.js";
import { formatBytes } from "./size.js";

/** Progress of a copy: a redrawn bar on a terminal, a line per quarter otherwise, nothing with --json. */
export interface Progress {
  update(doneBytes: number, where: string): void;
  done(): void;
}

const WIDTH = 30;

export function createProgress(totalBytes: number, io: Out, json: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  const t0 = performance.now();
  if (json) return { update() {}, done() {} };
  if (!stream.isTTY) {
    let nextQuarter = 1;
    return {
      update(done, where) {
        while (done >= (totalBytes * nextQuarter) / 4 && nextQuarter <= 4) {
          io.err(`progress: ${nextQuarter * 25}% (${formatBytes(done)} verified, on ${where})`);
          nextQuarter++;
        }
      },
      done() {},
    };
  }
  let last = 0;
  let drawn = false;
  const draw = (done: number, where: string): void => {
    const frac = totalBytes > 0 ? done / totalBytes : 1;
    const filled = Math.round(frac * WIDTH);
    const rate = done / Math.max(1e-3, (performance.now() - t0) / 1000);
    stream.write(
      `\r[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(totalBytes)}  ${formatBytes(Math.round(rate))}/s  on ${where}\x1b[K`,
    );
    drawn = true;
  };
  return {
    update(done, where) {
      const now = performance.now();
      if (now - last < 100 && done < totalBytes) return;
      last = now;
      draw(done, where);
    },
    done() {
      if (drawn) stream.write("\n");
    },
  };
}
