// Original file: proto/dmabroker/v1/types.proto


export interface XorValidate {
  'sources'?: (Buffer | Uint8Array | string)[];
}

export interface XorValidate__Output {
  'sources': (Buffer)[];
}
