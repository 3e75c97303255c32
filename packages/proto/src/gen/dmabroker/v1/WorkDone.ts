// Original file: proto/dmabroker/v1/provider.proto

import type { WorkResult as _dmabroker_v1_WorkResult, WorkResult__Output as _dmabroker_v1_WorkResult__Output } from '../../dmabroker/v1/WorkResult.js';
import type { Long } from '@grpc/proto-loader';

export interface WorkDone {
  'epoch'?: (number | string | Long);
  'results'?: (_dmabroker_v1_WorkResult)[];
}

export interface WorkDone__Output {
  'epoch': (number);
  'results': (_dmabroker_v1_WorkResult__Output)[];
}
