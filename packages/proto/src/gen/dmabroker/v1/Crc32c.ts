// Original file: proto/dmabroker/v1/types.proto


export interface Crc32c {
  'src'?: (Buffer | Uint8Array | string);
  'seed'?: (number);
}

export interface Crc32c__Output {
  'src': (Buffer);
  'seed': (number);
}
