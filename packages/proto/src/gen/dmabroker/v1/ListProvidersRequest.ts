// Original file: proto/dmabroker/v1/broker.proto


export interface ListProvidersRequest {
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListProvidersRequest__Output {
  'pageSize': (number);
  'pageToken': (string);
}
