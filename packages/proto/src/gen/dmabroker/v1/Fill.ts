// Original file: proto/dmabroker/v1/types.proto


export interface Fill {
  'pattern'?: (Buffer | Uint8Array | string);
  'length'?: (number);
}

export interface Fill__Output {
  'pattern': (Buffer);
  'length': (number);
}
