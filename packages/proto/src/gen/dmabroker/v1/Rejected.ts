// Original file: proto/dmabroker/v1/provider.proto


export interface Rejected {
  'reason'?: (string);
  'message'?: (string);
}

export interface Rejected__Output {
  'reason': (string);
  'message': (string);
}
