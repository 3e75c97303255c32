// Original file: proto/dmabroker/v1/broker.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchLeaseRequest {
  'leaseId'?: (string);
  'afterCookie'?: (number | string | Long);
}

export interface WatchLeaseRequest__Output {
  'leaseId': (string);
  'afterCookie': (number);
}
