import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChannelInfo as _dmabroker_v1_ChannelInfo, ChannelInfo__Output as _dmabroker_v1_ChannelInfo__Output } from './dmabroker/v1/ChannelInfo.js';
import type { Compare as _dmabroker_v1_Compare, Compare__Output as _dmabroker_v1_Compare__Output } from './dmabroker/v1/Compare.js';
import type { Completion as _dmabroker_v1_Completion, Completion__Output as _dmabroker_v1_Completion__Output } from './dmabroker/v1/Completion.js';
import type { CompletionBatch as _dmabroker_v1_CompletionBatch, CompletionBatch__Output as _dmabroker_v1_CompletionBatch__Output } from './dmabroker/v1/CompletionBatch.js';
import type { Constraints as _dmabroker_v1_Constraints, Constraints__Output as _dmabroker_v1_Constraints__Output } from './dmabroker/v1/Constraints.js';
import type { Crc32c as _dmabroker_v1_Crc32c, Crc32c__Output as _dmabroker_v1_Crc32c__Output } from './dmabroker/v1/Crc32c.js';
import type { Descriptor as _dmabroker_v1_Descriptor, Descriptor__Output as _dmabroker_v1_Descriptor__Output } from './dmabroker/v1/Descriptor.js';
import type { DmaBrokerClient as _dmabroker_v1_DmaBrokerClient, DmaBrokerDefinition as _dmabroker_v1_DmaBrokerDefinition } from './dmabroker/v1/DmaBroker.js';
import type { Fill as _dmabroker_v1_Fill, Fill__Output as _dmabroker_v1_Fill__Output } from './dmabroker/v1/Fill.js';
import type { Interrupt as _dmabroker_v1_Interrupt, Interrupt__Output as _dmabroker_v1_Interrupt__Output } from './dmabroker/v1/Interrupt.js';
import type { IssuePendingRequest as _dmabroker_v1_IssuePendingRequest, IssuePendingRequest__Output as _dmabroker_v1_IssuePendingRequest__Output } from './dmabroker/v1/IssuePendingRequest.js';
import type { IssuePendingResponse as _dmabroker_v1_IssuePendingResponse, IssuePendingResponse__Output as _dmabroker_v1_IssuePendingResponse__Output } from './dmabroker/v1/IssuePendingResponse.js';
import type { KeepAliveRequest as _dmabroker_v1_KeepAliveRequest, KeepAliveRequest__Output as _dmabroker_v1_KeepAliveRequest__Output } from './dmabroker/v1/KeepAliveRequest.js';
import type { KeepAliveResponse as _dmabroker_v1_KeepAliveResponse, KeepAliveResponse__Output as _dmabroker_v1_KeepAliveResponse__Output } from './dmabroker/v1/KeepAliveResponse.js';
import type { Lease as _dmabroker_v1_Lease, Lease__Output as _dmabroker_v1_Lease__Output } from './dmabroker/v1/Lease.js';
import type { LeaseEvent as _dmabroker_v1_LeaseEvent, LeaseEvent__Output as _dmabroker_v1_LeaseEvent__Output } from './dmabroker/v1/LeaseEvent.js';
import type { LeaseStateChange as _dmabroker_v1_LeaseStateChange, LeaseStateChange__Output as _dmabroker_v1_LeaseStateChange__Output } from './dmabroker/v1/LeaseStateChange.js';
import type { ListProvidersRequest as _dmabroker_v1_ListProvidersRequest, ListProvidersRequest__Output as _dmabroker_v1_ListProvidersRequest__Output } from './dmabroker/v1/ListProvidersRequest.js';
import type { ListProvidersResponse as _dmabroker_v1_ListProvidersResponse, ListProvidersResponse__Output as _dmabroker_v1_ListProvidersResponse__Output } from './dmabroker/v1/ListProvidersResponse.js';
import type { Memcpy as _dmabroker_v1_Memcpy, Memcpy__Output as _dmabroker_v1_Memcpy__Output } from './dmabroker/v1/Memcpy.js';
import type { ProviderInfo as _dmabroker_v1_ProviderInfo, ProviderInfo__Output as _dmabroker_v1_ProviderInfo__Output } from './dmabroker/v1/ProviderInfo.js';
import type { ReleaseRequest as _dmabroker_v1_ReleaseRequest, ReleaseRequest__Output as _dmabroker_v1_ReleaseRequest__Output } from './dmabroker/v1/ReleaseRequest.js';
import type { ReleaseResponse as _dmabroker_v1_ReleaseResponse, ReleaseResponse__Output as _dmabroker_v1_ReleaseResponse__Output } from './dmabroker/v1/ReleaseResponse.js';
import type { RequestChannelRequest as _dmabroker_v1_RequestChannelRequest, RequestChannelRequest__Output as _dmabroker_v1_RequestChannelRequest__Output } from './dmabroker/v1/RequestChannelRequest.js';
import type { RequestChannelResponse as _dmabroker_v1_RequestChannelResponse, RequestChannelResponse__Output as _dmabroker_v1_RequestChannelResponse__Output } from './dmabroker/v1/RequestChannelResponse.js';
import type { Selector as _dmabroker_v1_Selector, Selector__Output as _dmabroker_v1_Selector__Output } from './dmabroker/v1/Selector.js';
import type { SubmitRequest as _dmabroker_v1_SubmitRequest, SubmitRequest__Output as _dmabroker_v1_SubmitRequest__Output } from './dmabroker/v1/SubmitRequest.js';
import type { SubmitResponse as _dmabroker_v1_SubmitResponse, SubmitResponse__Output as _dmabroker_v1_SubmitResponse__Output } from './dmabroker/v1/SubmitResponse.js';
import type { TerminateRequest as _dmabroker_v1_TerminateRequest, TerminateRequest__Output as _dmabroker_v1_TerminateRequest__Output } from './dmabroker/v1/TerminateRequest.js';
import type { TerminateResponse as _dmabroker_v1_TerminateResponse, TerminateResponse__Output as _dmabroker_v1_TerminateResponse__Output } from './dmabroker/v1/TerminateResponse.js';
import type { TxStatusRequest as _dmabroker_v1_TxStatusRequest, TxStatusRequest__Output as _dmabroker_v1_TxStatusRequest__Output } from './dmabroker/v1/TxStatusRequest.js';
import type { TxStatusResponse as _dmabroker_v1_TxStatusResponse, TxStatusResponse__Output as _dmabroker_v1_TxStatusResponse__Output } from './dmabroker/v1/TxStatusResponse.js';
import type { WatchLeaseRequest as _dmabroker_v1_WatchLeaseRequest, WatchLeaseRequest__Output as _dmabroker_v1_WatchLeaseRequest__Output } from './dmabroker/v1/WatchLeaseRequest.js';
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
      CompletionBatch: MessageTypeDefinition<_dmabroker_v1_CompletionBatch, _dmabroker_v1_CompletionBatch__Output>
      Constraints: MessageTypeDefinition<_dmabroker_v1_Constraints, _dmabroker_v1_Constraints__Output>
      Crc32c: MessageTypeDefinition<_dmabroker_v1_Crc32c, _dmabroker_v1_Crc32c__Output>
      Descriptor: MessageTypeDefinition<_dmabroker_v1_Descriptor, _dmabroker_v1_Descriptor__Output>
      DmaBroker: SubtypeConstructor<typeof grpc.Client, _dmabroker_v1_DmaBrokerClient> & { service: _dmabroker_v1_DmaBrokerDefinition }
      Fill: MessageTypeDefinition<_dmabroker_v1_Fill, _dmabroker_v1_Fill__Output>
      Interrupt: MessageTypeDefinition<_dmabroker_v1_Interrupt, _dmabroker_v1_Interrupt__Output>
      IssuePendingRequest: MessageTypeDefinition<_dmabroker_v1_IssuePendingRequest, _dmabroker_v1_IssuePendingRequest__Output>
      IssuePendingResponse: MessageTypeDefinition<_dmabroker_v1_IssuePendingResponse, _dmabroker_v1_IssuePendingResponse__Output>
      KeepAliveRequest: MessageTypeDefinition<_dmabroker_v1_KeepAliveRequest, _dmabroker_v1_KeepAliveRequest__Output>
      KeepAliveResponse: MessageTypeDefinition<_dmabroker_v1_KeepAliveResponse, _dmabroker_v1_KeepAliveResponse__Output>
      Lease: MessageTypeDefinition<_dmabroker_v1_Lease, _dmabroker_v1_Lease__Output>
      LeaseEvent: MessageTypeDefinition<_dmabroker_v1_LeaseEvent, _dmabroker_v1_LeaseEvent__Output>
      LeaseMode: EnumTypeDefinition
      LeaseState: EnumTypeDefinition
      LeaseStateChange: MessageTypeDefinition<_dmabroker_v1_LeaseStateChange, _dmabroker_v1_LeaseStateChange__Output>
      ListProvidersRequest: MessageTypeDefinition<_dmabroker_v1_ListProvidersRequest, _dmabroker_v1_ListProvidersRequest__Output>
      ListProvidersResponse: MessageTypeDefinition<_dmabroker_v1_ListProvidersResponse, _dmabroker_v1_ListProvidersResponse__Output>
      Memcpy: MessageTypeDefinition<_dmabroker_v1_Memcpy, _dmabroker_v1_Memcpy__Output>
      Op: EnumTypeDefinition
      Ordering: EnumTypeDefinition
      ProviderInfo: MessageTypeDefinition<_dmabroker_v1_ProviderInfo, _dmabroker_v1_ProviderInfo__Output>
      ProviderState: EnumTypeDefinition
      ReleaseRequest: MessageTypeDefinition<_dmabroker_v1_ReleaseRequest, _dmabroker_v1_ReleaseRequest__Output>
      ReleaseResponse: MessageTypeDefinition<_dmabroker_v1_ReleaseResponse, _dmabroker_v1_ReleaseResponse__Output>
      RequestChannelRequest: MessageTypeDefinition<_dmabroker_v1_RequestChannelRequest, _dmabroker_v1_RequestChannelRequest__Output>
      RequestChannelResponse: MessageTypeDefinition<_dmabroker_v1_RequestChannelResponse, _dmabroker_v1_RequestChannelResponse__Output>
      Selector: MessageTypeDefinition<_dmabroker_v1_Selector, _dmabroker_v1_Selector__Output>
      SubmitRequest: MessageTypeDefinition<_dmabroker_v1_SubmitRequest, _dmabroker_v1_SubmitRequest__Output>
      SubmitResponse: MessageTypeDefinition<_dmabroker_v1_SubmitResponse, _dmabroker_v1_SubmitResponse__Output>
      TerminateRequest: MessageTypeDefinition<_dmabroker_v1_TerminateRequest, _dmabroker_v1_TerminateRequest__Output>
      TerminateResponse: MessageTypeDefinition<_dmabroker_v1_TerminateResponse, _dmabroker_v1_TerminateResponse__Output>
      TxResult: EnumTypeDefinition
      TxStatus: EnumTypeDefinition
      TxStatusRequest: MessageTypeDefinition<_dmabroker_v1_TxStatusRequest, _dmabroker_v1_TxStatusRequest__Output>
      TxStatusResponse: MessageTypeDefinition<_dmabroker_v1_TxStatusResponse, _dmabroker_v1_TxStatusResponse__Output>
      WatchLeaseRequest: MessageTypeDefinition<_dmabroker_v1_WatchLeaseRequest, _dmabroker_v1_WatchLeaseRequest__Output>
      Xor: MessageTypeDefinition<_dmabroker_v1_Xor, _dmabroker_v1_Xor__Output>
      XorValidate: MessageTypeDefinition<_dmabroker_v1_XorValidate, _dmabroker_v1_XorValidate__Output>
    }
  }
}

