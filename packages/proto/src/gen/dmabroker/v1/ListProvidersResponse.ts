// Original file: proto/dmabroker/v1/broker.proto

import type { ProviderInfo as _dmabroker_v1_ProviderInfo, ProviderInfo__Output as _dmabroker_v1_ProviderInfo__Output } from '../../dmabroker/v1/ProviderInfo.js';

export interface ListProvidersResponse {
  'providers'?: (_dmabroker_v1_ProviderInfo)[];
  'nextPageToken'?: (string);
}

export interface ListProvidersResponse__Output {
  'providers': (_dmabroker_v1_ProviderInfo__Output)[];
  'nextPageToken': (string);
}
