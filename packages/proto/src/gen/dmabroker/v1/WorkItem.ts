// Original file: proto/dmabroker/v1/provider.proto

import type { Descriptor as _dmabroker_v1_Descriptor, Descriptor__Output as _dmabroker_v1_Descriptor__Output } from '../../dmabroker/v1/Descriptor.js';
import type { Long } from '@grpc/proto-loader';

export interface WorkItem {
  'workId'?: (number | string | Long);
  'descriptor'?: (_dmabroker_v1_Descriptor | null);
}

export interface WorkItem__Output {
  'workId': (number);
  'descriptor': (_dmabroker_v1_Descriptor__Output | null);
}
