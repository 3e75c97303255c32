// Original file: proto/dmabroker/v1/types.proto


export interface Compare {
  'a'?: (Buffer | Uint8Array | string);
  'b'?: (Buffer | Uint8Array | string);
}

export interface Compare__Output {
  'a': (Buffer);
  'b': (Buffer);
}
