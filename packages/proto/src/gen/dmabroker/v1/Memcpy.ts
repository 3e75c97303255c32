// Original file: proto/dmabroker/v1/types.proto


export interface Memcpy {
  'src'?: (Buffer | Uint8Array | string);
}

export interface Memcpy__Output {
  'src': (Buffer);
}
