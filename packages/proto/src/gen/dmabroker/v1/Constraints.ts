// Original file: proto/dmabroker/v1/types.proto


export interface Constraints {
  'maxTransferBytes'?: (number);
  'alignment'?: (number);
  'maxXorSources'?: (number);
}

export interface Constraints__Output {
  'maxTransferBytes': (number);
  'alignment': (number);
  'maxXorSources': (number);
}
