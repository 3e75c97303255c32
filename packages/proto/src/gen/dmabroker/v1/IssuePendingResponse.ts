// Original file: proto/dmabroker/v1/broker.proto


export interface IssuePendingResponse {
  'issued'?: (number);
}

export interface IssuePendingResponse__Output {
  'issued': (number);
}
