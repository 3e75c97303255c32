import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentMessage as _dmabroker_v1_AgentMessage, AgentMessage__Output as _dmabroker_v1_AgentMessage__Output } from './dmabroker/v1/AgentMessage.js';
import type { BrokerMessage as _dmabroker_v1_BrokerMessage, BrokerMessage__Output as _dmabroker_v1_BrokerMessage__Output } from './dmabroker/v1/BrokerMessage.js';
import type { ChannelInfo as _dmabroker_v1_ChannelInfo, ChannelInfo__Output as _dmabroker_v1_ChannelInfo__Output } from './dmabroker/v1/ChannelInfo.js';
import type { ChannelSpec as _dmabroker_v1_ChannelSpec, ChannelSpec__Output as _dmabroker_v1_ChannelSpec__Output } from './dmabroker/v1/ChannelSpec.js';
import type { Compare as _dmabroker_v1_Compare, Compare__Output as _dmabroker_v1_Compare__Output } from './dmabroker/v1/Compare.js';
import type { Completion as _dmabroker_v1_Completion, Completion__Output as _dmabroker_v1_Completion__Output } from './dmabroker/v1/Completion.js';
import type { Constraints as _dmabroker_v1_Constraints, Constraints__Output as _dmabroker_v1_Constraints__Output } from './dmabroker/v1/Constraints.js';
import type { Crc32c as _dmabroker_v1_Crc32c, Crc32c__Output as _dmabroker_v1_Crc32c__Output } from './dmabroker/v1/Crc32c.js';
import type { Descriptor as _dmabroker_v1_Descriptor, Descriptor__Output as _dmabroker_v1_Descriptor__Output } from './dmabroker/v1/Descriptor.js';
import type { Draining as _dmabroker_v1_Draining, Draining__Output as _dmabroker_v1_Draining__Output } from './dmabroker/v1/Draining.js';
import type { Fill as _dmabroker_v1_Fill, Fill__Output as _dmabroker_v1_Fill__Output } from './dmabroker/v1/Fill.js';
import type { Goodbye as _dmabroker_v1_Goodbye, Goodbye__Output as _dmabroker_v1_Goodbye__Output } from './dmabroker/v1/Goodbye.js';
import type { Heartbeat as _dmabroker_v1_Heartbeat, Heartbeat__Output as _dmabroker_v1_Heartbeat__Output } from './dmabroker/v1/Heartbeat.js';
import type { Interrupt as _dmabroker_v1_Interrupt, Interrupt__Output as _dmabroker_v1_Interrupt__Output } from './dmabroker/v1/Interrupt.js';
import type { Lease as _dmabroker_v1_Lease, Lease__Output as _dmabroker_v1_Lease__Output } from './dmabroker/v1/Lease.js';
import type { Memcpy as _dmabroker_v1_Memcpy, Memcpy__Output as _dmabroker_v1_Memcpy__Output } from './dmabroker/v1/Memcpy.js';
import type { ProviderHubClient as _dmabroker_v1_ProviderHubClient, ProviderHubDefinition as _dmabroker_v1_ProviderHubDefinition } from './dmabroker/v1/ProviderHub.js';
import type { ProviderInfo as _dmabroker_v1_ProviderInfo, ProviderInfo__Output as _dmabroker_v1_ProviderInfo__Output } from './dmabroker/v1/ProviderInfo.js';
import type { Register as _dmabroker_v1_Register, Register__Output as _dmabroker_v1_Register__Output } from './dmabroker/v1/Register.js';
import type { Registered as _dmabroker_v1_Registered, Registered__Output as _dmabroker_v1_Registered__Output } from './dmabroker/v1/Registered.js';
import type { Rejected as _dmabroker_v1_Rejected, Rejected__Output as _dmabroker_v1_Rejected__Output } from './dmabroker/v1/Rejected.js';
import type { TerminateAck as _dmabroker_v1_TerminateAck, TerminateAck__Output as _dmabroker_v1_TerminateAck__Output } from './dmabroker/v1/TerminateAck.js';
import type { TerminateWork as _dmabroker_v1_TerminateWork, TerminateWork__Output as _dmabroker_v1_TerminateWork__Output } from './dmabroker/v1/TerminateWork.js';
import type { Unbind as _dmabroker_v1_Unbind, Unbind__Output as _dmabroker_v1_Unbind__Output } from './dmabroker/v1/Unbind.js';
import type { WorkBatch as _dmabroker_v1_WorkBatch, WorkBatch__Output as _dmabroker_v1_WorkBatch__Output } from './dmabroker/v1/WorkBatch.js';
import type { WorkDone as _dmabroker_v1_WorkDone, WorkDone__Output as _dmabroker_v1_WorkDone__Output } from './dmabroker/v1/WorkDone.js';
import type { WorkItem as _dmabroker_v1_WorkItem, WorkItem__Output as _dmabroker_v1_WorkItem__Output } from './dmabroker/v1/WorkItem.js';
import type { WorkResult as _dmabroker_v1_WorkResult, WorkResult__Output as _dmabroker_v1_WorkResult__Output } from './dmabroker/v1/WorkResult.js';
import type { Xor as _dmabroker_v1_Xor, Xor__Output as _dmabroker_v1_Xor__Output } from './dmabroker/v1/Xor.js';
import type { XorValidate as _dmabroker_v1_XorValidate, XorValidate__Output as _dmabroker_v1_XorValidate__Output } from './dmabroker/v1/XorValidate.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dmabroker: {
    v1: {
      AgentMessage: MessageTypeDefinition<_dmabroker_v1_AgentMessage, _dmabroker_v1_AgentMessage__Output>
      BrokerMessage: MessageTypeDefinition<_dmabroker_v1_BrokerMessage, _dmabroker_v1_BrokerMessage__Output>
      ChannelInfo: MessageTypeDefinition<_dmabroker_v1_ChannelInfo, _dmabroker_v1_ChannelInfo__Output>
      ChannelSpec: MessageTypeDefinition<_dmabroker_v1_ChannelSpec, _dmabroker_v1_ChannelSpec__Output>
      Compare: MessageTypeDefinition<_dmabroker_v1_Compare, _dmabroker_v1_Compare__Output>
      Completion: MessageTypeDefinition<_dmabroker_v1_Completion, _dmabroker_v1_Completion__Output>
      Constraints: MessageTypeDefinition<_dmabroker_v1_Constraints, _dmabroker_v1_Constraints__Output>
      Crc32c: MessageTypeDefinition<_dmabroker_v1_Crc32c, _dmabroker_v1_Crc32c__Output>
      Descriptor: MessageTypeDefinition<_dmabroker_v1_Descriptor, _dmabroker_v1_Descriptor__Output>
      Draining: MessageTypeDefinition<_dmabroker_v1_Draining, _dmabroker_v1_Draining__Output>
      Fill: MessageTypeDefinition<_dmabroker_v1_Fill, _dmabroker_v1_Fill__Output>
      Goodbye: MessageTypeDefinition<_dmabroker_v1_Goodbye, _dmabroker_v1_Goodbye__Output>
      Heartbeat: MessageTypeDefinition<_dmabroker_v1_Heartbeat, _dmabroker_v1_Heartbeat__Output>
      Interrupt: MessageTypeDefinition<_dmabroker_v1_Interrupt, _dmabroker_v1_Interrupt__Output>
      Lease: MessageTypeDefinition<_dmabroker_v1_Lease, _dmabroker_v1_Lease__Output>
      LeaseMode: EnumTypeDefinition
      LeaseState: EnumTypeDefinition
      Memcpy: MessageTypeDefinition<_dmabroker_v1_Memcpy, _dmabroker_v1_Memcpy__Output>
      Op: EnumTypeDefinition
      Ordering: EnumTypeDefinition
      ProviderHub: SubtypeConstructor<typeof grpc.Client, _dmabroker_v1_ProviderHubClient> & { service: _dmabroker_v1_ProviderHubDefinition }
      ProviderInfo: MessageTypeDefinition<_dmabroker_v1_ProviderInfo, _dmabroker_v1_ProviderInfo__Output>
      ProviderState: EnumTypeDefinition
      Register: MessageTypeDefinition<_dmabroker_v1_Register, _dmabroker_v1_Register__Output>
      Registered: MessageTypeDefinition<_dmabroker_v1_Registered, _dmabroker_v1_Registered__Output>
      Rejected: MessageTypeDefinition<_dmabroker_v1_Rejected, _dmabroker_v1_Rejected__Output>
      TerminateAck: MessageTypeDefinition<_dmabroker_v1_TerminateAck, _dmabroker_v1_TerminateAck__Output>
      TerminateWork: MessageTypeDefinition<_dmabroker_v1_TerminateWork, _dmabroker_v1_TerminateWork__Output>
      TxResult: EnumTypeDefinition
      TxStatus: EnumTypeDefinition
      Unbind: MessageTypeDefinition<_dmabroker_v1_Unbind, _dmabroker_v1_Unbind__Output>
      WorkBatch: MessageTypeDefinition<_dmabroker_v1_WorkBatch, _dmabroker_v1_WorkBatch__Output>
      WorkDone: MessageTypeDefinition<_dmabroker_v1_WorkDone, _dmabroker_v1_WorkDone__Output>
      WorkItem: MessageTypeDefinition<_dmabroker_v1_WorkItem, _dmabroker_v1_WorkItem__Output>
      WorkResult: MessageTypeDefinition<_dmabroker_v1_WorkResult, _dmabroker_v1_WorkResult__Output>
      Xor: MessageTypeDefinition<_dmabroker_v1_Xor, _dmabroker_v1_Xor__Output>
      XorValidate: MessageTypeDefinition<_dmabroker_v1_XorValidate, _dmabroker_v1_XorValidate__Output>
    }
  }
}

