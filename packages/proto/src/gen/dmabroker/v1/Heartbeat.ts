// Original file: proto/dmabroker/v1/provider.proto

import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'seq'?: (number | string | Long);
  'epoch'?: (number | string | Long);
}

export interface Heartbeat__Output {
  'seq': (number);
  'epoch': (number);
}
