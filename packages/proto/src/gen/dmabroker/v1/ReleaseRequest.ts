// Original file: proto/dmabroker/v1/broker.proto


export interface ReleaseRequest {
  'leaseId'?: (string);
}

export interface ReleaseRequest__Output {
  'leaseId': (string);
}
