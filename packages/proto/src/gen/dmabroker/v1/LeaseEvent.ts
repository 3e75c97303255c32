// Original file: proto/dmabroker/v1/broker.proto

import type { CompletionBatch as _dmabroker_v1_CompletionBatch, CompletionBatch__Output as _dmabroker_v1_CompletionBatch__Output } from '../../dmabroker/v1/CompletionBatch.js';
import type { LeaseStateChange as _dmabroker_v1_LeaseStateChange, LeaseStateChange__Output as _dmabroker_v1_LeaseStateChange__Output } from '../../dmabroker/v1/LeaseStateChange.js';

export interface LeaseEvent {
  'completions'?: (_dmabroker_v1_CompletionBatch | null);
  'state'?: (_dmabroker_v1_LeaseStateChange | null);
  'event'?: "completions"|"state";
}

export interface LeaseEvent__Output {
  'completions'?: (_dmabroker_v1_CompletionBatch__Output | null);
  'state'?: (_dmabroker_v1_LeaseStateChange__Output | null);
  'event'?: "completions"|"state";
}
