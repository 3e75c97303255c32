// Original file: proto/dmabroker/v1/provider.proto

import type { Constraints as _dmabroker_v1_Constraints, Constraints__Output as _dmabroker_v1_Constraints__Output } from '../../dmabroker/v1/Constraints.js';
import type { Ordering as _dmabroker_v1_Ordering, Ordering__Output as _dmabroker_v1_Ordering__Output } from '../../dmabroker/v1/Ordering.js';
import type { ChannelSpec as _dmabroker_v1_ChannelSpec, ChannelSpec__Output as _dmabroker_v1_ChannelSpec__Output } from '../../dmabroker/v1/ChannelSpec.js';
import type { Long } from '@grpc/proto-loader';

export interface Register {
  'providerId'?: (string);
  'labels'?: ({[key: string]: string});
  'capabilityMask'?: (number);
  'constraints'?: (_dmabroker_v1_Constraints | null);
  'ordering'?: (_dmabroker_v1_Ordering);
  'public'?: (boolean);
  'profile'?: (string);
  'channels'?: (_dmabroker_v1_ChannelSpec)[];
  'resumeEpoch'?: (number | string | Long);
}

export interface Register__Output {
  'providerId': (string);
  'labels': ({[key: string]: string});
  'capabilityMask': (number);
  'constraints': (_dmabroker_v1_Constraints__Output | null);
  'ordering': (_dmabroker_v1_Ordering__Output);
  'public': (boolean);
  'profile': (string);
  'channels': (_dmabroker_v1_ChannelSpec__Output)[];
  'resumeEpoch': (number);
}
