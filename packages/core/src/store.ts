/**
 * The persistence seam (docs/design.md §9). Today it only hands out provider
 * epochs, in memory; an on-disk store (broker restart) and etcd (several
 * brokers) will implement the same interface and grow it to lease and result
 * records.
 */
export interface BrokerStore {
  /** A provider epoch never handed out before (monotonic for this store). */
  nextEpoch(): number;
}

/** Epochs in memory: monotonic for this process's life. */
export function createMemoryStore(firstEpoch = 1): BrokerStore {
  let next = firstEpoch;
  return { nextEpoch: () => next++ };
}
