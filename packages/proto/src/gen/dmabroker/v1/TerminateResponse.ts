// Original file: proto/dmabroker/v1/broker.proto


export interface TerminateResponse {
  'aborted'?: (number);
}

export interface TerminateResponse__Output {
  'aborted': (number);
}
