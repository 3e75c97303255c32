// Original file: proto/dmabroker/v1/broker.proto

import type { Long } from '@grpc/proto-loader';

export interface TxStatusRequest {
  'leaseId'?: (string);
  'cookie'?: (number | string | Long);
}

export interface TxStatusRequest__Output {
  'leaseId': (string);
  'cookie': (number);
}
