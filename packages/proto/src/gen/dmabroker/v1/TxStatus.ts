// Original file: proto/dmabroker/v1/types.proto

export const TxStatus = {
  TX_STATUS_UNSPECIFIED: 'TX_STATUS_UNSPECIFIED',
  TX_STATUS_PENDING: 'TX_STATUS_PENDING',
  TX_STATUS_IN_PROGRESS: 'TX_STATUS_IN_PROGRESS',
  TX_STATUS_COMPLETE: 'TX_STATUS_COMPLETE',
  TX_STATUS_ERROR: 'TX_STATUS_ERROR',
} as const;

export type TxStatus =
  | 'TX_STATUS_UNSPECIFIED'
  | 0
  | 'TX_STATUS_PENDING'
  | 1
  | 'TX_STATUS_IN_PROGRESS'
  | 2
  | 'TX_STATUS_COMPLETE'
  | 3
  | 'TX_STATUS_ERROR'
  | 4

export type TxStatus__Output = typeof TxStatus[keyof typeof TxStatus]
