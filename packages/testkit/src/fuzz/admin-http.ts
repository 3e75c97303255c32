import http from "node:http";
import type { CaseContext } from "./case-context.js";
import { judgeAdmin } from "./verdict.js";

/** One admin request as a case sends it: any method, any path bytes, any body and content type. */
export interface AdminRequest {
  method: string;
  /** Path and query, sent as given (not re-encoded). */
  path: string;
  body?: Buffer;
  contentType?: string;
  /** Read a streaming answer (SSE) for this long, then abort. */
  streamMs?: number;
}

/** Sends it (bounded) and judges the answer: an error must be problem+json with a catalogued reason. */
export function adminRequest(c: CaseContext, req: AdminRequest, timeoutMs = 10_000): Promise<void> {
  const url = new URL(c.env.adminUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    };
    const headers: Record<string, string | number> = {};
    if (req.body) headers["content-length"] = req.body.length;
    if (req.contentType) headers["content-type"] = req.contentType;
    const r = http.request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (b: Buffer) => {
        if (size < 64 * 1024) chunks.push(b);
        size += b.length;
      });
      const judge = (): void => {
        c.note(judgeAdmin(res.statusCode ?? 0, String(res.headers["content-type"] ?? ""), Buffer.concat(chunks).toString("utf8"), req.method));
        done();
      };
      res.on("end", judge);
      res.on("error", judge);
      if (req.streamMs !== undefined) {
        setTimeout(() => {
          if (res.statusCode !== undefined && res.statusCode < 400) {
            c.ok(`admin ${res.statusCode} stream`);
            r.destroy();
            done();
          }
        }, req.streamMs);
      }
    });
    const timer = setTimeout(() => {
      c.violation("stall", `admin ${req.method} ${req.path.slice(0, 80)}: no answer within ${timeoutMs} ms`);
      r.destroy();
      done();
    }, timeoutMs);
    r.on("error", (err) => {
      if (settled) return done();
      // A server that answers an oversized body early and closes: the answer is lost to us, not unnamed.
      const code = (err as NodeJS.ErrnoException).code;
      if ((req.body?.length ?? 0) > 64 * 1024 && (code === "EPIPE" || code === "ECONNRESET")) c.ok("admin connection closed during an oversized body");
      // The server closing the connection on a request it could not parse: an answer without a reason.
      else c.violation("admin_unnamed", `admin ${req.method} ${req.path.slice(0, 80)}: connection failed (${err.message})`);
      done();
    });
    r.end(req.body);
  });
}
