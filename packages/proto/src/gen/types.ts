import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChannelInfo as _dmabroker_v1_ChannelInfo, ChannelInfo__Output as _dmabroker_v1_ChannelInfo__Output } from './dmabroker/v1/ChannelInfo.js';
import type { Compare as _dmabroker_v1_Compare, Compare__Output as _dmabroker_v1_Compare__Output } from './dmabroker/v1/Compare.js';
import type { Completion as _dmabroker_v1_Completion, Completion__Output as _dmabroker_v1_Completion__Output } from './dmabroker/v1/Completion.js';
import type { Constraints as _dmabroker_v1_Constraints, Constraints__Output as _dmabroker_v1_Constraints__Output } from './dmabroker/v1/Constraints.js';
import type { Crc32c as _dmabroker_v1_Crc32c, Crc32c__Output as _dmabroker_v1_Crc32c__Output } from './dmabroker/v1/Crc32c.js';
import type { Descriptor as _dmabroker_v1_Descriptor, Descriptor__Output as _dmabroker_v1_Descriptor__Output } from './dmabroker/v1/Descriptor.js';
import type { Fill as _dmabroker_v1_Fill, Fill__Output as _dmabroker_v1_Fill__Output } from './dmabroker/v1/Fill.js';
import type { Interrupt as _dmabroker_v1_Interrupt, Interrupt__Output as _dmabroker_v1_Interrupt__Output } from './dmabroker/v1/Interrupt.js';
import type { Lease as _dmabroker_v1_Lease, Lease__Output as _dmabroker_v1_Lease__Output } from './dmabroker/v1/Lease.js';
import type { Memcpy as _dmabroker_v1_Memcpy, Memcpy__Output as _dmabroker_v1_Memcpy__Output } from './dmabroker/v1/Memcpy.js';
import type { ProviderInfo as _dmabroker_v1_ProviderInfo, ProviderInfo__Output as _dmabroker_v1_ProviderInfo__Output } from './dmabroker/v1/ProviderInfo.js';
import type { Xor as _dmabroker_v1_Xor, Xor__Output as _dmabroker_v1_Xor__Output } from './dmabroker/v1/Xor.js';
import type { XorValidate as _dmabroker_v1_XorValidate, XorValidate__Output as _dmabroker_v1_XorValidate__Output } from './dmabroker/v1/XorValidate.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dmabroker: {
    v1: {
      ChannelInfo: MessageTypeDefinition<_dmabroker_v1_ChannelInfo, _dmabroker_v1_ChannelInfo__Output>
      Compare: MessageTypeDefinition<_dmabroker_v1_Compare, _dmabroker_v1_Compare__Output>
      Completion: MessageTypeDefinition<_dmabroker_v1_Completion, _dmabroker_v1_Completion__Output>
      Constraints: MessageTypeDefinition<_dmabroker_v1_Constraints, _dmabroker_v1_Constraints__Output>
      Crc32c: MessageTypeDefinition<_dmabroker_v1_Crc32c, _dmabroker_v1_Crc32c__Output>
      Descriptor: MessageTypeDefinition<_dmabroker_v1_Descriptor, _dmabroker_v1_Descriptor__Output>
      Fill: MessageTypeDefinition<_dmabroker_v1_Fill, _dmabroker_v1_Fill__Output>
      Interrupt: MessageTypeDefinition<_dmabroker_v1_Interrupt, _dmabroker_v1_Interrupt__Output>
      Lease: MessageTypeDefinition<_dmabroker_v1_Lease, _dmabroker_v1_Lease__Output>
      LeaseMode: EnumTypeDefinition
      LeaseState: EnumTypeDefinition
      Memcpy: MessageTypeDefinition<_dmabroker_v1_Memcpy, _dmabroker_v1_Memcpy__Output>
      Op: EnumTypeDefinition
      Ordering: EnumTypeDefinition
      ProviderInfo: MessageTypeDefinition<_dmabroker_v1_ProviderInfo, _dmabroker_v1_ProviderInfo__Output>
      ProviderState: EnumTypeDefinition
      TxResult: EnumTypeDefinition
      TxStatus: EnumTypeDefinition
      Xor: MessageTypeDefinition<_dmabroker_v1_Xor, _dmabroker_v1_Xor__Output>
      XorValidate: MessageTypeDefinition<_dmabroker_v1_XorValidate, _dmabroker_v1_XorValidate__Output>
    }
  }
}

