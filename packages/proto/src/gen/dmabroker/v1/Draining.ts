// Original file: proto/dmabroker/v1/provider.proto


export interface Draining {
  'deadlineMs'?: (number);
}

export interface Draining__Output {
  'deadlineMs': (number);
}
