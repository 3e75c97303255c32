// Original file: proto/dmabroker/v1/broker.proto

import type { Completion as _dmabroker_v1_Completion, Completion__Output as _dmabroker_v1_Completion__Output } from '../../dmabroker/v1/Completion.js';

export interface CompletionBatch {
  'completions'?: (_dmabroker_v1_Completion)[];
}

export interface CompletionBatch__Output {
  'completions': (_dmabroker_v1_Completion__Output)[];
}
