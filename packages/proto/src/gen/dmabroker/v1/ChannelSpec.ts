// Original file: proto/dmabroker/v1/provider.proto


export interface ChannelSpec {
  'queueDepth'?: (number);
}

export interface ChannelSpec__Output {
  'queueDepth': (number);
}
