// Original file: proto/dmabroker/v1/types.proto


export interface Xor {
  'sources'?: (Buffer | Uint8Array | string)[];
}

export interface Xor__Output {
  'sources': (Buffer)[];
}
