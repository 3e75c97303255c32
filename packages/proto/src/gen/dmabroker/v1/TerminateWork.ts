// Original file: proto/dmabroker/v1/provider.proto

import type { Long } from '@grpc/proto-loader';

export interface TerminateWork {
  'epoch'?: (number | string | Long);
  'channel'?: (number);
  'workIds'?: (number | string | Long)[];
  'token'?: (number | string | Long);
}

export interface TerminateWork__Output {
  'epoch': (number);
  'channel': (number);
  'workIds': (number)[];
  'token': (number);
}
