// Original file: proto/dmabroker/v1/types.proto

export const Ordering = {
  ORDERING_UNSPECIFIED: 'ORDERING_UNSPECIFIED',
  ORDERING_IN_ORDER: 'ORDERING_IN_ORDER',
  ORDERING_OUT_OF_ORDER: 'ORDERING_OUT_OF_ORDER',
} as const;

export type Ordering =
  | 'ORDERING_UNSPECIFIED'
  | 0
  | 'ORDERING_IN_ORDER'
  | 1
  | 'ORDERING_OUT_OF_ORDER'
  | 2

export type Ordering__Output = typeof Ordering[keyof typeof Ordering]
