// Original file: proto/dmabroker/v1/broker.proto

import type { LeaseState as _dmabroker_v1_LeaseState, LeaseState__Output as _dmabroker_v1_LeaseState__Output } from '../../dmabroker/v1/LeaseState.js';
import type { Long } from '@grpc/proto-loader';

export interface LeaseStateChange {
  'state'?: (_dmabroker_v1_LeaseState);
  'reason'?: (string);
  'atMs'?: (number | string | Long);
  'restartFloor'?: (number | string | Long);
}

export interface LeaseStateChange__Output {
  'state': (_dmabroker_v1_LeaseState__Output);
  'reason': (string);
  'atMs': (number);
  'restartFloor': (number);
}
