// Original file: proto/dmabroker/v1/types.proto

import type { ProviderState as _dmabroker_v1_ProviderState, ProviderState__Output as _dmabroker_v1_ProviderState__Output } from '../../dmabroker/v1/ProviderState.js';
import type { Constraints as _dmabroker_v1_Constraints, Constraints__Output as _dmabroker_v1_Constraints__Output } from '../../dmabroker/v1/Constraints.js';
import type { Ordering as _dmabroker_v1_Ordering, Ordering__Output as _dmabroker_v1_Ordering__Output } from '../../dmabroker/v1/Ordering.js';
import type { ChannelInfo as _dmabroker_v1_ChannelInfo, ChannelInfo__Output as _dmabroker_v1_ChannelInfo__Output } from '../../dmabroker/v1/ChannelInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface ProviderInfo {
  'providerId'?: (string);
  'epoch'?: (number | string | Long);
  'state'?: (_dmabroker_v1_ProviderState);
  'labels'?: ({[key: string]: string});
  'capabilityMask'?: (number);
  'constraints'?: (_dmabroker_v1_Constraints | null);
  'ordering'?: (_dmabroker_v1_Ordering);
  'public'?: (boolean);
  'profile'?: (string);
  'channels'?: (_dmabroker_v1_ChannelInfo)[];
}

export interface ProviderInfo__Output {
  'providerId': (string);
  'epoch': (number);
  'state': (_dmabroker_v1_ProviderState__Output);
  'labels': ({[key: string]: string});
  'capabilityMask': (number);
  'constraints': (_dmabroker_v1_Constraints__Output | null);
  'ordering': (_dmabroker_v1_Ordering__Output);
  'public': (boolean);
  'profile': (string);
  'channels': (_dmabroker_v1_ChannelInfo__Output)[];
}
