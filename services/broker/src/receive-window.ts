import type { Http2Session } from "node:http2";
import * as grpc from "@grpc/grpc-js";

/**
 * Widens the HTTP/2 receive windows of every connection the broker serves,
 * the first time a call arrives on it: the connection's window
 * (`setLocalWindowSize`) and, by a SETTINGS frame, every stream's initial
 * window (which HTTP/2 applies to the streams already open, so the first
 * call profits too). grpc-js's server offers no option for either and keeps
 * Node's 64 KiB, so a client sending a 64 MiB Submit waited for ~2,000
 * WINDOW_UPDATEs, each a round trip through both event loops: 27 s when both
 * processes were busy, against 1 s with a 16 MiB window (the peers'
 * `grpc-node.flow_control_window` for the other direction). The same for
 * agents' WorkDone outputs.
 *
 * Reaches the HTTP/2 stream through grpc-js's innermost call (`stream`, an
 * internal field); where a grpc-js version has none it does nothing and the
 * transfers are only slower. Memory is not the window's to bound: grpc-js
 * reads every message whole anyway; the per-method byte limits bound that.
 */
export function receiveWindowInterceptor(windowBytes: number): grpc.ServerInterceptor {
  const widened = new WeakSet<Http2Session>();
  return (_method, call) => {
    const session = sessionOf(call);
    if (session && !widened.has(session) && !session.destroyed) {
      widened.add(session);
      try {
        session.setLocalWindowSize(windowBytes);
        session.settings({ initialWindowSize: windowBytes });
      } catch {
        // A session closing under us: nothing to widen.
      }
    }
    return new grpc.ServerInterceptingCall(call);
  };
}

function sessionOf(call: unknown): Http2Session | undefined {
  let c = call as { stream?: { session?: Http2Session }; nextCall?: unknown } | undefined;
  for (let i = 0; i < 4 && c && !c.stream; i++) c = c.nextCall as typeof c;
  const session = c?.stream?.session;
  return session && typeof session.setLocalWindowSize === "function" && typeof session.settings === "function" ? session : undefined;
}
