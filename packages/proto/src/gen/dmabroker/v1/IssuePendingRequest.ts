// Original file: proto/dmabroker/v1/broker.proto


export interface IssuePendingRequest {
  'leaseId'?: (string);
}

export interface IssuePendingRequest__Output {
  'leaseId': (string);
}
