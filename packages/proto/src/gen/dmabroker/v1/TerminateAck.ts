// Original file: proto/dmabroker/v1/provider.proto

import type { Long } from '@grpc/proto-loader';

export interface TerminateAck {
  'epoch'?: (number | string | Long);
  'token'?: (number | string | Long);
}

export interface TerminateAck__Output {
  'epoch': (number);
  'token': (number);
}
