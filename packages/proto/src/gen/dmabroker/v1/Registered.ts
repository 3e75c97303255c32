// Original file: proto/dmabroker/v1/provider.proto

import type { Long } from '@grpc/proto-loader';

export interface Registered {
  'epoch'?: (number | string | Long);
  'heartbeatIntervalMs'?: (number);
  'heartbeatTimeoutMs'?: (number);
}

export interface Registered__Output {
  'epoch': (number);
  'heartbeatIntervalMs': (number);
  'heartbeatTimeoutMs': (number);
}
