// Original file: proto/dmabroker/v1/types.proto

import type { Long } from '@grpc/proto-loader';

export interface ChannelInfo {
  'index'?: (number);
  'queueDepth'?: (number);
  'leases'?: (number);
  'outstanding'?: (number);
  'exclusive'?: (boolean);
  'completed'?: (number | string | Long);
  'failed'?: (number | string | Long);
}

export interface ChannelInfo__Output {
  'index': (number);
  'queueDepth': (number);
  'leases': (number);
  'outstanding': (number);
  'exclusive': (boolean);
  'completed': (number);
  'failed': (number);
}
