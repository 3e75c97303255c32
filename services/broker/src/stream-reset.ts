import http2 from "node:http2";

/**
 * Resets the HTTP/2 stream under a grpc-js server call (RST_STREAM CANCEL),
 * dropping whatever is still queued on it. grpc-js has no server-side cancel:
 * ending a call waits for every queued message to flush first, which never
 * happens when the peer has stopped reading. This walks grpc-js's call chain
 * (stream impl → intercepting calls → base call → http2 stream); it returns
 * false when the structure is not what it expects (the test of the cut-off
 * reader, test/integration/hostile/backpressure.test.ts, then fails); false
 * also when the stream has closed already.
 */
export function resetStream(call: unknown): boolean {
  let node = (call as { call?: unknown }).call;
  for (let depth = 0; node && depth < 16; depth++) {
    const stream = (node as { stream?: Partial<http2.Http2Stream> }).stream;
    if (stream && typeof stream.close === "function" && "rstCode" in stream) {
      if (stream.destroyed || stream.closed) return false;
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return true;
    }
    node = (node as { nextCall?: unknown }).nextCall;
  }
  return false;
}

/**
 * How long a cut-off stream may keep its unread backlog: a reader that
 * resumes within it still reads up to the named status; one that never does
 * is reset, so a peer cannot pin the backlog's memory by keeping an idle
 * connection alive.
 */
export const CUT_OFF_GRACE_MS = 15_000;

/** Resets the call's stream after CUT_OFF_GRACE_MS unless it has closed by then. */
export function resetAfterGrace(call: unknown, onReset?: () => void): void {
  setTimeout(() => {
    if (resetStream(call)) onReset?.();
  }, CUT_OFF_GRACE_MS).unref();
}
