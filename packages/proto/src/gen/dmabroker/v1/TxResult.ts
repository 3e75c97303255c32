// Original file: proto/dmabroker/v1/types.proto

export const TxResult = {
  TX_RESULT_UNSPECIFIED: 'TX_RESULT_UNSPECIFIED',
  TX_RESULT_NOERROR: 'TX_RESULT_NOERROR',
  TX_RESULT_READ_FAILED: 'TX_RESULT_READ_FAILED',
  TX_RESULT_WRITE_FAILED: 'TX_RESULT_WRITE_FAILED',
  TX_RESULT_ABORTED: 'TX_RESULT_ABORTED',
} as const;

export type TxResult =
  | 'TX_RESULT_UNSPECIFIED'
  | 0
  | 'TX_RESULT_NOERROR'
  | 1
  | 'TX_RESULT_READ_FAILED'
  | 2
  | 'TX_RESULT_WRITE_FAILED'
  | 3
  | 'TX_RESULT_ABORTED'
  | 4

export type TxResult__Output = typeof TxResult[keyof typeof TxResult]
