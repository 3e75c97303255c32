// Original file: proto/dmabroker/v1/broker.proto

import type { Selector as _dmabroker_v1_Selector, Selector__Output as _dmabroker_v1_Selector__Output } from '../../dmabroker/v1/Selector.js';
import type { LeaseMode as _dmabroker_v1_LeaseMode, LeaseMode__Output as _dmabroker_v1_LeaseMode__Output } from '../../dmabroker/v1/LeaseMode.js';

export interface RequestChannelRequest {
  'capabilityMask'?: (number);
  'selector'?: (_dmabroker_v1_Selector | null);
  'mode'?: (_dmabroker_v1_LeaseMode);
  'ttlMs'?: (number);
}

export interface RequestChannelRequest__Output {
  'capabilityMask': (number);
  'selector': (_dmabroker_v1_Selector__Output | null);
  'mode': (_dmabroker_v1_LeaseMode__Output);
  'ttlMs': (number);
}
