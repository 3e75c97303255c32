// Original file: proto/dmabroker/v1/provider.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _dmabroker_v1_AgentMessage, AgentMessage__Output as _dmabroker_v1_AgentMessage__Output } from '../../dmabroker/v1/AgentMessage.js';
import type { BrokerMessage as _dmabroker_v1_BrokerMessage, BrokerMessage__Output as _dmabroker_v1_BrokerMessage__Output } from '../../dmabroker/v1/BrokerMessage.js';

export interface ProviderHubClient extends grpc.Client {
  Attach(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dmabroker_v1_AgentMessage, _dmabroker_v1_BrokerMessage__Output>;
  Attach(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dmabroker_v1_AgentMessage, _dmabroker_v1_BrokerMessage__Output>;
  attach(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dmabroker_v1_AgentMessage, _dmabroker_v1_BrokerMessage__Output>;
  attach(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dmabroker_v1_AgentMessage, _dmabroker_v1_BrokerMessage__Output>;
  
}

export interface ProviderHubHandlers extends grpc.UntypedServiceImplementation {
  Attach: grpc.handleBidiStreamingCall<_dmabroker_v1_AgentMessage__Output, _dmabroker_v1_BrokerMessage>;
  
}

export interface ProviderHubDefinition extends grpc.ServiceDefinition {
  Attach: MethodDefinition<_dmabroker_v1_AgentMessage, _dmabroker_v1_BrokerMessage, _dmabroker_v1_AgentMessage__Output, _dmabroker_v1_BrokerMessage__Output>
}
