// Original file: proto/dmabroker/v1/provider.proto


export interface Unbind {
  'reason'?: (string);
  'force'?: (boolean);
  'deadlineMs'?: (number);
}

export interface Unbind__Output {
  'reason': (string);
  'force': (boolean);
  'deadlineMs': (number);
}
