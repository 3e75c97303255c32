// Original file: proto/dmabroker/v1/broker.proto

import type { Completion as _dmabroker_v1_Completion, Completion__Output as _dmabroker_v1_Completion__Output } from '../../dmabroker/v1/Completion.js';

export interface TxStatusResponse {
  'completion'?: (_dmabroker_v1_Completion | null);
}

export interface TxStatusResponse__Output {
  'completion': (_dmabroker_v1_Completion__Output | null);
}
