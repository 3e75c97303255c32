// Original file: proto/dmabroker/v1/provider.proto

import type { Register as _dmabroker_v1_Register, Register__Output as _dmabroker_v1_Register__Output } from '../../dmabroker/v1/Register.js';
import type { Heartbeat as _dmabroker_v1_Heartbeat, Heartbeat__Output as _dmabroker_v1_Heartbeat__Output } from '../../dmabroker/v1/Heartbeat.js';
import type { WorkDone as _dmabroker_v1_WorkDone, WorkDone__Output as _dmabroker_v1_WorkDone__Output } from '../../dmabroker/v1/WorkDone.js';
import type { TerminateAck as _dmabroker_v1_TerminateAck, TerminateAck__Output as _dmabroker_v1_TerminateAck__Output } from '../../dmabroker/v1/TerminateAck.js';
import type { Draining as _dmabroker_v1_Draining, Draining__Output as _dmabroker_v1_Draining__Output } from '../../dmabroker/v1/Draining.js';
import type { Goodbye as _dmabroker_v1_Goodbye, Goodbye__Output as _dmabroker_v1_Goodbye__Output } from '../../dmabroker/v1/Goodbye.js';

export interface AgentMessage {
  'register'?: (_dmabroker_v1_Register | null);
  'heartbeat'?: (_dmabroker_v1_Heartbeat | null);
  'done'?: (_dmabroker_v1_WorkDone | null);
  'terminateAck'?: (_dmabroker_v1_TerminateAck | null);
  'draining'?: (_dmabroker_v1_Draining | null);
  'goodbye'?: (_dmabroker_v1_Goodbye | null);
  'msg'?: "register"|"heartbeat"|"done"|"terminateAck"|"draining"|"goodbye";
}

export interface AgentMessage__Output {
  'register'?: (_dmabroker_v1_Register__Output | null);
  'heartbeat'?: (_dmabroker_v1_Heartbeat__Output | null);
  'done'?: (_dmabroker_v1_WorkDone__Output | null);
  'terminateAck'?: (_dmabroker_v1_TerminateAck__Output | null);
  'draining'?: (_dmabroker_v1_Draining__Output | null);
  'goodbye'?: (_dmabroker_v1_Goodbye__Output | null);
  'msg'?: "register"|"heartbeat"|"done"|"terminateAck"|"draining"|"goodbye";
}
