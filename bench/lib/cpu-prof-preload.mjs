// Loaded into a service with NODE_OPTIONS="--import <this file>" (Node does not
// allow --cpu-prof there): profiles the whole process with the inspector and
// writes a .cpuprofile into $DMABROKER_BENCH_PROFILE_DIR when it exits normally.
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import path from "node:path";

const dir = process.env.DMABROKER_BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 200 });
  session.post("Profiler.start");
  process.once("exit", () => {
    // The in-thread session answers synchronously, so this completes before exit.
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      const service = path.basename(path.dirname(path.dirname(process.argv[1] ?? "node")));
      writeFileSync(path.join(dir, `${service}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
