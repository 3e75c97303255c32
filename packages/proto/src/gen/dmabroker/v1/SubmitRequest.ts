// Original file: proto/dmabroker/v1/broker.proto

import type { Descriptor as _dmabroker_v1_Descriptor, Descriptor__Output as _dmabroker_v1_Descriptor__Output } from '../../dmabroker/v1/Descriptor.js';

export interface SubmitRequest {
  'leaseId'?: (string);
  'descriptors'?: (_dmabroker_v1_Descriptor)[];
  'issue'?: (boolean);
}

export interface SubmitRequest__Output {
  'leaseId': (string);
  'descriptors': (_dmabroker_v1_Descriptor__Output)[];
  'issue': (boolean);
}
