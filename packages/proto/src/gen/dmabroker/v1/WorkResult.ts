// Original file: proto/dmabroker/v1/provider.proto

import type { TxResult as _dmabroker_v1_TxResult, TxResult__Output as _dmabroker_v1_TxResult__Output } from '../../dmabroker/v1/TxResult.js';
import type { Long } from '@grpc/proto-loader';

export interface WorkResult {
  'workId'?: (number | string | Long);
  'result'?: (_dmabroker_v1_TxResult);
  'residue'?: (number | string | Long);
  'reason'?: (string);
  'output'?: (Buffer | Uint8Array | string);
  'checksum'?: (number);
  'match'?: (boolean);
  'mismatchOffset'?: (number | string | Long);
}

export interface WorkResult__Output {
  'workId': (number);
  'result': (_dmabroker_v1_TxResult__Output);
  'residue': (number);
  'reason': (string);
  'output': (Buffer);
  'checksum': (number);
  'match': (boolean);
  'mismatchOffset': (number);
}
