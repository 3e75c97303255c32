// Original file: proto/dmabroker/v1/broker.proto

import type { Lease as _dmabroker_v1_Lease, Lease__Output as _dmabroker_v1_Lease__Output } from '../../dmabroker/v1/Lease.js';

export interface KeepAliveResponse {
  'lease'?: (_dmabroker_v1_Lease | null);
}

export interface KeepAliveResponse__Output {
  'lease': (_dmabroker_v1_Lease__Output | null);
}
