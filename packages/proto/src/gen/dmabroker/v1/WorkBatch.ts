// Original file: proto/dmabroker/v1/provider.proto

import type { WorkItem as _dmabroker_v1_WorkItem, WorkItem__Output as _dmabroker_v1_WorkItem__Output } from '../../dmabroker/v1/WorkItem.js';
import type { Long } from '@grpc/proto-loader';

export interface WorkBatch {
  'epoch'?: (number | string | Long);
  'channel'?: (number);
  'items'?: (_dmabroker_v1_WorkItem)[];
}

export interface WorkBatch__Output {
  'epoch': (number);
  'channel': (number);
  'items': (_dmabroker_v1_WorkItem__Output)[];
}
