import type { Reason } from "./reasons.js";
import type { CompletionRecord, TxStatus, WorkReport } from "./completion.js";
import type { DmaDescriptor } from "./descriptor.js";
import { transferLength } from "./descriptor.js";

/** One accepted cookie, from submit to its terminal result. */
export interface LedgerEntry {
  readonly cookie: number;
  /** Bytes the descriptor moves (the residue when it is aborted). */
  readonly length: number;
  /** Held only until issued, then dropped to free the payload. */
  descriptor: DmaDescriptor | undefined;
  /** Set when issued to the provider. */
  workId: number;
  result: CompletionRecord | undefined;
}

export interface LedgerLimits {
  /** Terminal results kept per lease for TxStatus and watch replay. */
  maxRetainedResults: number;
  /** Output bytes kept per lease for results not yet delivered to a watcher. */
  maxRetainedOutputBytes: number;
}

/**
 * The per-lease cookie ledger: hands out positive, increasing cookies and
 * records each cookie's result on its own (never inferred from a watermark,
 * since out-of-order providers exist). `settle` accepts a cookie's first
 * terminal result and refuses every later one: exactly once.
 */
export class CookieLedger {
  private nextCookie = 1;
  private readonly entries = new Map<number, LedgerEntry>();
  /** Submitted, not yet issued, in submission order. */
  private pending: LedgerEntry[] = [];
  /** Terminal cookies in the order they ended, for bounded retention. */
  private readonly ended: number[] = [];
  private endedHead = 0;
  private retainedOutputBytes = 0;
  /** Results whose output bytes count against the budget (not yet delivered, trimmed or pruned). */
  private readonly counted = new WeakSet<CompletionRecord>();
  /** Index into `ended` below which no result holds counted output. */
  private trimCursor = 0;
  private unfinishedCount = 0;

  constructor(private readonly limits: LedgerLimits) {}

  /** Submitted or issued, not yet terminal. */
  get unfinished(): number {
    return this.unfinishedCount;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** The highest cookie handed out so far (0 before the first submit). */
  get lastCookie(): number {
    return this.nextCookie - 1;
  }

  /** Entries currently held (unfinished plus retained results). */
  get size(): number {
    return this.entries.size;
  }

  /** Accepts a whole batch (already validated) and returns its cookies. */
  accept(descriptors: readonly DmaDescriptor[]): number[] {
    const cookies = new Array<number>(descriptors.length);
    for (let i = 0; i < descriptors.length; i++) {
      const d = descriptors[i]!; // i < length
      const entry: LedgerEntry = { cookie: this.nextCookie++, length: transferLength(d), descriptor: d, workId: 0, result: undefined };
      this.entries.set(entry.cookie, entry);
      this.pending.push(entry);
      cookies[i] = entry.cookie;
    }
    this.unfinishedCount += descriptors.length;
    return cookies;
  }

  /** Takes every pending entry for issue (dma_async_issue_pending). */
  takePending(): LedgerEntry[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  /** Records a provider's result for an issued cookie. Undefined when the cookie already ended. */
  settleFromReport(cookie: number, report: WorkReport): CompletionRecord | undefined {
    return this.settle(cookie, {
      cookie,
      status: report.result === "NOERROR" ? "COMPLETE" : "ERROR",
      result: report.result,
      residue: report.residue,
      reason: report.reason,
      output: report.output,
      checksum: report.checksum,
      match: report.match,
      mismatchOffset: report.mismatchOffset,
    });
  }

  /** Ends every unfinished cookie as ABORTED with the given reason and full residue. */
  abortUnfinished(reason: Reason): CompletionRecord[] {
    const aborted: CompletionRecord[] = [];
    for (const entry of this.entries.values()) {
      if (entry.result !== undefined) continue;
      const record = this.settle(entry.cookie, {
        cookie: entry.cookie,
        status: "ERROR",
        result: "ABORTED",
        residue: entry.length,
        reason,
      });
      if (record) aborted.push(record);
    }
    this.pending = [];
    return aborted;
  }

  /** Work ids of issued, unfinished cookies (to tell the provider to drop them). */
  issuedUnfinishedWorkIds(): number[] {
    const ids: number[] = [];
    for (const entry of this.entries.values()) {
      if (entry.result === undefined && entry.workId !== 0) ids.push(entry.workId);
    }
    return ids;
  }

  /**
   * The state of one cookie: a retained terminal record, or PENDING /
   * IN_PROGRESS with full residue. Undefined when the cookie was never issued
   * or its result is no longer retained.
   */
  status(cookie: number): { status: TxStatus; record?: CompletionRecord; residue: number } | undefined {
    const entry = this.entries.get(cookie);
    if (!entry) return undefined;
    if (entry.result) return { status: entry.result.status, record: entry.result, residue: entry.result.residue };
    return { status: entry.workId === 0 ? "PENDING" : "IN_PROGRESS", residue: entry.length };
  }

  /** Retained terminal results with a cookie above `after`, in cookie order. */
  retainedAfter(after: number): CompletionRecord[] {
    const out: CompletionRecord[] = [];
    for (const entry of this.entries.values()) {
      if (entry.result && entry.cookie > after) out.push(entry.result);
    }
    return out.sort((a, b) => a.cookie - b.cookie);
  }

  /** Drops output bytes of results a watcher has received (the client has them now). */
  releaseOutputs(records: readonly CompletionRecord[]): void {
    for (const r of records) {
      if (r.output && this.counted.delete(r)) this.retainedOutputBytes -= r.output.length;
      r.output = undefined;
    }
  }

  /**
   * Enforces the output-byte budget on retained results nobody has received,
   * oldest first. Separate from settling: a batch is settled whole, delivered,
   * and only then trimmed, so no result loses its output before delivery.
   */
  trimOutputs(): void {
    if (this.trimCursor < this.endedHead) this.trimCursor = this.endedHead;
    while (this.retainedOutputBytes > this.limits.maxRetainedOutputBytes && this.trimCursor < this.ended.length) {
      const r = this.entries.get(this.ended[this.trimCursor++]!)?.result; // trimCursor < length
      if (r?.output && this.counted.delete(r)) {
        this.retainedOutputBytes -= r.output.length;
        r.output = undefined;
      }
    }
  }

  /** Output bytes currently counted against the budget (for tests and metrics). */
  get outputBytes(): number {
    return this.retainedOutputBytes;
  }

  private settle(cookie: number, record: CompletionRecord): CompletionRecord | undefined {
    const entry = this.entries.get(cookie);
    if (!entry || entry.result !== undefined) return undefined;
    entry.result = record;
    entry.descriptor = undefined;
    this.unfinishedCount--;
    if (record.output) {
      this.counted.add(record);
      this.retainedOutputBytes += record.output.length;
    }
    this.ended.push(cookie);
    this.pruneByCount();
    return record;
  }

  /**
   * Forgets the oldest-ended results beyond the count bound. Their outputs stop
   * counting against the budget, but the record objects are left intact: one
   * may still be on its way to a watcher in the batch being settled.
   */
  private pruneByCount(): void {
    while (this.ended.length - this.endedHead > this.limits.maxRetainedResults) {
      const cookie = this.ended[this.endedHead++]!; // endedHead < length: more than the bound remain
      const r = this.entries.get(cookie)?.result;
      if (r?.output && this.counted.delete(r)) this.retainedOutputBytes -= r.output.length;
      this.entries.delete(cookie);
    }
    if (this.endedHead > 1024 && this.endedHead * 2 > this.ended.length) {
      this.ended.splice(0, this.endedHead);
      this.trimCursor = Math.max(0, this.trimCursor - this.endedHead);
      this.endedHead = 0;
    }
  }
}
