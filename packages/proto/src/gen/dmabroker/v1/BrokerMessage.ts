// Original file: proto/dmabroker/v1/provider.proto

import type { Registered as _dmabroker_v1_Registered, Registered__Output as _dmabroker_v1_Registered__Output } from '../../dmabroker/v1/Registered.js';
import type { Heartbeat as _dmabroker_v1_Heartbeat, Heartbeat__Output as _dmabroker_v1_Heartbeat__Output } from '../../dmabroker/v1/Heartbeat.js';
import type { WorkBatch as _dmabroker_v1_WorkBatch, WorkBatch__Output as _dmabroker_v1_WorkBatch__Output } from '../../dmabroker/v1/WorkBatch.js';
import type { TerminateWork as _dmabroker_v1_TerminateWork, TerminateWork__Output as _dmabroker_v1_TerminateWork__Output } from '../../dmabroker/v1/TerminateWork.js';
import type { Unbind as _dmabroker_v1_Unbind, Unbind__Output as _dmabroker_v1_Unbind__Output } from '../../dmabroker/v1/Unbind.js';
import type { Rejected as _dmabroker_v1_Rejected, Rejected__Output as _dmabroker_v1_Rejected__Output } from '../../dmabroker/v1/Rejected.js';

export interface BrokerMessage {
  'registered'?: (_dmabroker_v1_Registered | null);
  'heartbeat'?: (_dmabroker_v1_Heartbeat | null);
  'work'?: (_dmabroker_v1_WorkBatch | null);
  'terminate'?: (_dmabroker_v1_TerminateWork | null);
  'unbind'?: (_dmabroker_v1_Unbind | null);
  'rejected'?: (_dmabroker_v1_Rejected | null);
  'msg'?: "registered"|"heartbeat"|"work"|"terminate"|"unbind"|"rejected";
}

export interface BrokerMessage__Output {
  'registered'?: (_dmabroker_v1_Registered__Output | null);
  'heartbeat'?: (_dmabroker_v1_Heartbeat__Output | null);
  'work'?: (_dmabroker_v1_WorkBatch__Output | null);
  'terminate'?: (_dmabroker_v1_TerminateWork__Output | null);
  'unbind'?: (_dmabroker_v1_Unbind__Output | null);
  'rejected'?: (_dmabroker_v1_Rejected__Output | null);
  'msg'?: "registered"|"heartbeat"|"work"|"terminate"|"unbind"|"rejected";
}
