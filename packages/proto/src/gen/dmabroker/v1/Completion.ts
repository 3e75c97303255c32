// Original file: proto/dmabroker/v1/types.proto

import type { TxStatus as _dmabroker_v1_TxStatus, TxStatus__Output as _dmabroker_v1_TxStatus__Output } from '../../dmabroker/v1/TxStatus.js';
import type { TxResult as _dmabroker_v1_TxResult, TxResult__Output as _dmabroker_v1_TxResult__Output } from '../../dmabroker/v1/TxResult.js';
import type { Long } from '@grpc/proto-loader';

export interface Completion {
  'cookie'?: (number | string | Long);
  'status'?: (_dmabroker_v1_TxStatus);
  'result'?: (_dmabroker_v1_TxResult);
  'residue'?: (number | string | Long);
  'reason'?: (string);
  'output'?: (Buffer | Uint8Array | string);
  'checksum'?: (number);
  'match'?: (boolean);
  'mismatchOffset'?: (number | string | Long);
}

export interface Completion__Output {
  'cookie': (number);
  'status': (_dmabroker_v1_TxStatus__Output);
  'result': (_dmabroker_v1_TxResult__Output);
  'residue': (number);
  'reason': (string);
  'output': (Buffer);
  'checksum': (number);
  'match': (boolean);
  'mismatchOffset': (number);
}
