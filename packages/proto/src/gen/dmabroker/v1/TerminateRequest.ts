// Original file: proto/dmabroker/v1/broker.proto


export interface TerminateRequest {
  'leaseId'?: (string);
  'sync'?: (boolean);
}

export interface TerminateRequest__Output {
  'leaseId': (string);
  'sync': (boolean);
}
