// Original file: proto/dmabroker/v1/types.proto

import type { LeaseMode as _dmabroker_v1_LeaseMode, LeaseMode__Output as _dmabroker_v1_LeaseMode__Output } from '../../dmabroker/v1/LeaseMode.js';
import type { Constraints as _dmabroker_v1_Constraints, Constraints__Output as _dmabroker_v1_Constraints__Output } from '../../dmabroker/v1/Constraints.js';
import type { LeaseState as _dmabroker_v1_LeaseState, LeaseState__Output as _dmabroker_v1_LeaseState__Output } from '../../dmabroker/v1/LeaseState.js';
import type { Long } from '@grpc/proto-loader';

export interface Lease {
  'leaseId'?: (string);
  'providerId'?: (string);
  'epoch'?: (number | string | Long);
  'channel'?: (number);
  'mode'?: (_dmabroker_v1_LeaseMode);
  'ttlMs'?: (number);
  'expiresAtMs'?: (number | string | Long);
  'capabilityMask'?: (number);
  'constraints'?: (_dmabroker_v1_Constraints | null);
  'state'?: (_dmabroker_v1_LeaseState);
  'endReason'?: (string);
}

export interface Lease__Output {
  'leaseId': (string);
  'providerId': (string);
  'epoch': (number);
  'channel': (number);
  'mode': (_dmabroker_v1_LeaseMode__Output);
  'ttlMs': (number);
  'expiresAtMs': (number);
  'capabilityMask': (number);
  'constraints': (_dmabroker_v1_Constraints__Output | null);
  'state': (_dmabroker_v1_LeaseState__Output);
  'endReason': (string);
}
