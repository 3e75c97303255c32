import type { BrokerEvent } from "@dmabroker/core";

/** A BrokerEvent with its position in the stream and the wall-clock time it happened. */
export interface SequencedEvent {
  id: number;
  atMs: number;
  event: BrokerEvent;
}

/** Events kept for late subscribers (`Last-Event-ID` replay). */
const DEFAULT_HISTORY = 1024;

/**
 * The broker's event fan-out: BrokerCore's `onEvent` publishes here, and logs,
 * metrics and the admin SSE stream subscribe. A subscriber that throws is
 * detached and never stops the others (or the core, which calls in from inside
 * a provider removal). A bounded ring keeps the latest events for replay.
 */
export class EventHub {
  private nextId = 1;
  private readonly ring: SequencedEvent[] = [];
  private readonly subscribers = new Set<(e: SequencedEvent) => void>();

  constructor(
    private readonly history = DEFAULT_HISTORY,
    private readonly onSubscriberError: (err: unknown) => void = () => {},
  ) {}

  /** Sequences and delivers one event. */
  publish(event: BrokerEvent): void {
    const e: SequencedEvent = { id: this.nextId++, atMs: Date.now(), event };
    this.ring.push(e);
    if (this.ring.length > this.history) this.ring.shift();
    for (const s of [...this.subscribers]) {
      try {
        s(e);
      } catch (err) {
        this.subscribers.delete(s);
        this.onSubscriberError(err);
      }
    }
  }

  /** Receives every event from now on; returns the unsubscribe function. */
  subscribe(fn: (e: SequencedEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Retained events after `id` (oldest first). */
  since(id: number): SequencedEvent[] {
    return this.ring.filter((e) => e.id > id);
  }

  /** The id the next event will get. */
  get nextEventId(): number {
    return this.nextId;
  }
}
