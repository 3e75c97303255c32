// Original file: proto/dmabroker/v1/broker.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { IssuePendingRequest as _dmabroker_v1_IssuePendingRequest, IssuePendingRequest__Output as _dmabroker_v1_IssuePendingRequest__Output } from '../../dmabroker/v1/IssuePendingRequest.js';
import type { IssuePendingResponse as _dmabroker_v1_IssuePendingResponse, IssuePendingResponse__Output as _dmabroker_v1_IssuePendingResponse__Output } from '../../dmabroker/v1/IssuePendingResponse.js';
import type { KeepAliveRequest as _dmabroker_v1_KeepAliveRequest, KeepAliveRequest__Output as _dmabroker_v1_KeepAliveRequest__Output } from '../../dmabroker/v1/KeepAliveRequest.js';
import type { KeepAliveResponse as _dmabroker_v1_KeepAliveResponse, KeepAliveResponse__Output as _dmabroker_v1_KeepAliveResponse__Output } from '../../dmabroker/v1/KeepAliveResponse.js';
import type { LeaseEvent as _dmabroker_v1_LeaseEvent, LeaseEvent__Output as _dmabroker_v1_LeaseEvent__Output } from '../../dmabroker/v1/LeaseEvent.js';
import type { ListProvidersRequest as _dmabroker_v1_ListProvidersRequest, ListProvidersRequest__Output as _dmabroker_v1_ListProvidersRequest__Output } from '../../dmabroker/v1/ListProvidersRequest.js';
import type { ListProvidersResponse as _dmabroker_v1_ListProvidersResponse, ListProvidersResponse__Output as _dmabroker_v1_ListProvidersResponse__Output } from '../../dmabroker/v1/ListProvidersResponse.js';
import type { ReleaseRequest as _dmabroker_v1_ReleaseRequest, ReleaseRequest__Output as _dmabroker_v1_ReleaseRequest__Output } from '../../dmabroker/v1/ReleaseRequest.js';
import type { ReleaseResponse as _dmabroker_v1_ReleaseResponse, ReleaseResponse__Output as _dmabroker_v1_ReleaseResponse__Output } from '../../dmabroker/v1/ReleaseResponse.js';
import type { RequestChannelRequest as _dmabroker_v1_RequestChannelRequest, RequestChannelRequest__Output as _dmabroker_v1_RequestChannelRequest__Output } from '../../dmabroker/v1/RequestChannelRequest.js';
import type { RequestChannelResponse as _dmabroker_v1_RequestChannelResponse, RequestChannelResponse__Output as _dmabroker_v1_RequestChannelResponse__Output } from '../../dmabroker/v1/RequestChannelResponse.js';
import type { SubmitRequest as _dmabroker_v1_SubmitRequest, SubmitRequest__Output as _dmabroker_v1_SubmitRequest__Output } from '../../dmabroker/v1/SubmitRequest.js';
import type { SubmitResponse as _dmabroker_v1_SubmitResponse, SubmitResponse__Output as _dmabroker_v1_SubmitResponse__Output } from '../../dmabroker/v1/SubmitResponse.js';
import type { TerminateRequest as _dmabroker_v1_TerminateRequest, TerminateRequest__Output as _dmabroker_v1_TerminateRequest__Output } from '../../dmabroker/v1/TerminateRequest.js';
import type { TerminateResponse as _dmabroker_v1_TerminateResponse, TerminateResponse__Output as _dmabroker_v1_TerminateResponse__Output } from '../../dmabroker/v1/TerminateResponse.js';
import type { TxStatusRequest as _dmabroker_v1_TxStatusRequest, TxStatusRequest__Output as _dmabroker_v1_TxStatusRequest__Output } from '../../dmabroker/v1/TxStatusRequest.js';
import type { TxStatusResponse as _dmabroker_v1_TxStatusResponse, TxStatusResponse__Output as _dmabroker_v1_TxStatusResponse__Output } from '../../dmabroker/v1/TxStatusResponse.js';
import type { WatchLeaseRequest as _dmabroker_v1_WatchLeaseRequest, WatchLeaseRequest__Output as _dmabroker_v1_WatchLeaseRequest__Output } from '../../dmabroker/v1/WatchLeaseRequest.js';

export interface DmaBrokerClient extends grpc.Client {
  IssuePending(argument: _dmabroker_v1_IssuePendingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_IssuePendingResponse__Output>): grpc.ClientUnaryCall;
  IssuePending(argument: _dmabroker_v1_IssuePendingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_IssuePendingResponse__Output>): grpc.ClientUnaryCall;
  IssuePending(argument: _dmabroker_v1_IssuePendingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_IssuePendingResponse__Output>): grpc.ClientUnaryCall;
  IssuePending(argument: _dmabroker_v1_IssuePendingRequest, callback: grpc.requestCallback<_dmabroker_v1_IssuePendingResponse__Output>): grpc.ClientUnaryCall;
  issuePending(argument: _dmabroker_v1_IssuePendingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_IssuePendingResponse__Output>): grpc.ClientUnaryCall;
  issuePending(argument: _dmabroker_v1_IssuePendingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_IssuePendingResponse__Output>): grpc.ClientUnaryCall;
  issuePending(argument: _dmabroker_v1_IssuePendingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_IssuePendingResponse__Output>): grpc.ClientUnaryCall;
  issuePending(argument: _dmabroker_v1_IssuePendingRequest, callback: grpc.requestCallback<_dmabroker_v1_IssuePendingResponse__Output>): grpc.ClientUnaryCall;
  
  KeepAlive(argument: _dmabroker_v1_KeepAliveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_KeepAliveResponse__Output>): grpc.ClientUnaryCall;
  KeepAlive(argument: _dmabroker_v1_KeepAliveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_KeepAliveResponse__Output>): grpc.ClientUnaryCall;
  KeepAlive(argument: _dmabroker_v1_KeepAliveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_KeepAliveResponse__Output>): grpc.ClientUnaryCall;
  KeepAlive(argument: _dmabroker_v1_KeepAliveRequest, callback: grpc.requestCallback<_dmabroker_v1_KeepAliveResponse__Output>): grpc.ClientUnaryCall;
  keepAlive(argument: _dmabroker_v1_KeepAliveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_KeepAliveResponse__Output>): grpc.ClientUnaryCall;
  keepAlive(argument: _dmabroker_v1_KeepAliveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_KeepAliveResponse__Output>): grpc.ClientUnaryCall;
  keepAlive(argument: _dmabroker_v1_KeepAliveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_KeepAliveResponse__Output>): grpc.ClientUnaryCall;
  keepAlive(argument: _dmabroker_v1_KeepAliveRequest, callback: grpc.requestCallback<_dmabroker_v1_KeepAliveResponse__Output>): grpc.ClientUnaryCall;
  
  ListProviders(argument: _dmabroker_v1_ListProvidersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  ListProviders(argument: _dmabroker_v1_ListProvidersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  ListProviders(argument: _dmabroker_v1_ListProvidersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  ListProviders(argument: _dmabroker_v1_ListProvidersRequest, callback: grpc.requestCallback<_dmabroker_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  listProviders(argument: _dmabroker_v1_ListProvidersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  listProviders(argument: _dmabroker_v1_ListProvidersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  listProviders(argument: _dmabroker_v1_ListProvidersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  listProviders(argument: _dmabroker_v1_ListProvidersRequest, callback: grpc.requestCallback<_dmabroker_v1_ListProvidersResponse__Output>): grpc.ClientUnaryCall;
  
  Release(argument: _dmabroker_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _dmabroker_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _dmabroker_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _dmabroker_v1_ReleaseRequest, callback: grpc.requestCallback<_dmabroker_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _dmabroker_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _dmabroker_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _dmabroker_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _dmabroker_v1_ReleaseRequest, callback: grpc.requestCallback<_dmabroker_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  
  RequestChannel(argument: _dmabroker_v1_RequestChannelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_RequestChannelResponse__Output>): grpc.ClientUnaryCall;
  RequestChannel(argument: _dmabroker_v1_RequestChannelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_RequestChannelResponse__Output>): grpc.ClientUnaryCall;
  RequestChannel(argument: _dmabroker_v1_RequestChannelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_RequestChannelResponse__Output>): grpc.ClientUnaryCall;
  RequestChannel(argument: _dmabroker_v1_RequestChannelRequest, callback: grpc.requestCallback<_dmabroker_v1_RequestChannelResponse__Output>): grpc.ClientUnaryCall;
  requestChannel(argument: _dmabroker_v1_RequestChannelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_RequestChannelResponse__Output>): grpc.ClientUnaryCall;
  requestChannel(argument: _dmabroker_v1_RequestChannelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_RequestChannelResponse__Output>): grpc.ClientUnaryCall;
  requestChannel(argument: _dmabroker_v1_RequestChannelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_RequestChannelResponse__Output>): grpc.ClientUnaryCall;
  requestChannel(argument: _dmabroker_v1_RequestChannelRequest, callback: grpc.requestCallback<_dmabroker_v1_RequestChannelResponse__Output>): grpc.ClientUnaryCall;
  
  Submit(argument: _dmabroker_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _dmabroker_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _dmabroker_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _dmabroker_v1_SubmitRequest, callback: grpc.requestCallback<_dmabroker_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _dmabroker_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _dmabroker_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _dmabroker_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _dmabroker_v1_SubmitRequest, callback: grpc.requestCallback<_dmabroker_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  
  Terminate(argument: _dmabroker_v1_TerminateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_TerminateResponse__Output>): grpc.ClientUnaryCall;
  Terminate(argument: _dmabroker_v1_TerminateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_TerminateResponse__Output>): grpc.ClientUnaryCall;
  Terminate(argument: _dmabroker_v1_TerminateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_TerminateResponse__Output>): grpc.ClientUnaryCall;
  Terminate(argument: _dmabroker_v1_TerminateRequest, callback: grpc.requestCallback<_dmabroker_v1_TerminateResponse__Output>): grpc.ClientUnaryCall;
  terminate(argument: _dmabroker_v1_TerminateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_TerminateResponse__Output>): grpc.ClientUnaryCall;
  terminate(argument: _dmabroker_v1_TerminateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_TerminateResponse__Output>): grpc.ClientUnaryCall;
  terminate(argument: _dmabroker_v1_TerminateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_TerminateResponse__Output>): grpc.ClientUnaryCall;
  terminate(argument: _dmabroker_v1_TerminateRequest, callback: grpc.requestCallback<_dmabroker_v1_TerminateResponse__Output>): grpc.ClientUnaryCall;
  
  TxStatus(argument: _dmabroker_v1_TxStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_TxStatusResponse__Output>): grpc.ClientUnaryCall;
  TxStatus(argument: _dmabroker_v1_TxStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_TxStatusResponse__Output>): grpc.ClientUnaryCall;
  TxStatus(argument: _dmabroker_v1_TxStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_TxStatusResponse__Output>): grpc.ClientUnaryCall;
  TxStatus(argument: _dmabroker_v1_TxStatusRequest, callback: grpc.requestCallback<_dmabroker_v1_TxStatusResponse__Output>): grpc.ClientUnaryCall;
  txStatus(argument: _dmabroker_v1_TxStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_TxStatusResponse__Output>): grpc.ClientUnaryCall;
  txStatus(argument: _dmabroker_v1_TxStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dmabroker_v1_TxStatusResponse__Output>): grpc.ClientUnaryCall;
  txStatus(argument: _dmabroker_v1_TxStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dmabroker_v1_TxStatusResponse__Output>): grpc.ClientUnaryCall;
  txStatus(argument: _dmabroker_v1_TxStatusRequest, callback: grpc.requestCallback<_dmabroker_v1_TxStatusResponse__Output>): grpc.ClientUnaryCall;
  
  WatchLease(argument: _dmabroker_v1_WatchLeaseRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dmabroker_v1_LeaseEvent__Output>;
  WatchLease(argument: _dmabroker_v1_WatchLeaseRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dmabroker_v1_LeaseEvent__Output>;
  watchLease(argument: _dmabroker_v1_WatchLeaseRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dmabroker_v1_LeaseEvent__Output>;
  watchLease(argument: _dmabroker_v1_WatchLeaseRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dmabroker_v1_LeaseEvent__Output>;
  
}

export interface DmaBrokerHandlers extends grpc.UntypedServiceImplementation {
  IssuePending: grpc.handleUnaryCall<_dmabroker_v1_IssuePendingRequest__Output, _dmabroker_v1_IssuePendingResponse>;
  
  KeepAlive: grpc.handleUnaryCall<_dmabroker_v1_KeepAliveRequest__Output, _dmabroker_v1_KeepAliveResponse>;
  
  ListProviders: grpc.handleUnaryCall<_dmabroker_v1_ListProvidersRequest__Output, _dmabroker_v1_ListProvidersResponse>;
  
  Release: grpc.handleUnaryCall<_dmabroker_v1_ReleaseRequest__Output, _dmabroker_v1_ReleaseResponse>;
  
  RequestChannel: grpc.handleUnaryCall<_dmabroker_v1_RequestChannelRequest__Output, _dmabroker_v1_RequestChannelResponse>;
  
  Submit: grpc.handleUnaryCall<_dmabroker_v1_SubmitRequest__Output, _dmabroker_v1_SubmitResponse>;
  
  Terminate: grpc.handleUnaryCall<_dmabroker_v1_TerminateRequest__Output, _dmabroker_v1_TerminateResponse>;
  
  TxStatus: grpc.handleUnaryCall<_dmabroker_v1_TxStatusRequest__Output, _dmabroker_v1_TxStatusResponse>;
  
  WatchLease: grpc.handleServerStreamingCall<_dmabroker_v1_WatchLeaseRequest__Output, _dmabroker_v1_LeaseEvent>;
  
}

export interface DmaBrokerDefinition extends grpc.ServiceDefinition {
  IssuePending: MethodDefinition<_dmabroker_v1_IssuePendingRequest, _dmabroker_v1_IssuePendingResponse, _dmabroker_v1_IssuePendingRequest__Output, _dmabroker_v1_IssuePendingResponse__Output>
  KeepAlive: MethodDefinition<_dmabroker_v1_KeepAliveRequest, _dmabroker_v1_KeepAliveResponse, _dmabroker_v1_KeepAliveRequest__Output, _dmabroker_v1_KeepAliveResponse__Output>
  ListProviders: MethodDefinition<_dmabroker_v1_ListProvidersRequest, _dmabroker_v1_ListProvidersResponse, _dmabroker_v1_ListProvidersRequest__Output, _dmabroker_v1_ListProvidersResponse__Output>
  Release: MethodDefinition<_dmabroker_v1_ReleaseRequest, _dmabroker_v1_ReleaseResponse, _dmabroker_v1_ReleaseRequest__Output, _dmabroker_v1_ReleaseResponse__Output>
  RequestChannel: MethodDefinition<_dmabroker_v1_RequestChannelRequest, _dmabroker_v1_RequestChannelResponse, _dmabroker_v1_RequestChannelRequest__Output, _dmabroker_v1_RequestChannelResponse__Output>
  Submit: MethodDefinition<_dmabroker_v1_SubmitRequest, _dmabroker_v1_SubmitResponse, _dmabroker_v1_SubmitRequest__Output, _dmabroker_v1_SubmitResponse__Output>
  Terminate: MethodDefinition<_dmabroker_v1_TerminateRequest, _dmabroker_v1_TerminateResponse, _dmabroker_v1_TerminateRequest__Output, _dmabroker_v1_TerminateResponse__Output>
  TxStatus: MethodDefinition<_dmabroker_v1_TxStatusRequest, _dmabroker_v1_TxStatusResponse, _dmabroker_v1_TxStatusRequest__Output, _dmabroker_v1_TxStatusResponse__Output>
  WatchLease: MethodDefinition<_dmabroker_v1_WatchLeaseRequest, _dmabroker_v1_LeaseEvent, _dmabroker_v1_WatchLeaseRequest__Output, _dmabroker_v1_LeaseEvent__Output>
}
