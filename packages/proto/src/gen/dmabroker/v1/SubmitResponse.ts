// Original file: proto/dmabroker/v1/broker.proto

import type { Long } from '@grpc/proto-loader';

export interface SubmitResponse {
  'cookies'?: (number | string | Long)[];
}

export interface SubmitResponse__Output {
  'cookies': (number)[];
}
