// Original file: proto/dmabroker/v1/broker.proto


export interface Selector {
  'labels'?: ({[key: string]: string});
  'providerId'?: (string);
}

export interface Selector__Output {
  'labels': ({[key: string]: string});
  'providerId': (string);
}
