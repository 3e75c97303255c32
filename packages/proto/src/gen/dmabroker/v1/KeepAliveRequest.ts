// Original file: proto/dmabroker/v1/broker.proto


export interface KeepAliveRequest {
  'leaseId'?: (string);
}

export interface KeepAliveRequest__Output {
  'leaseId': (string);
}
