// Original file: proto/dmabroker/v1/types.proto

export const Op = {
  OP_UNSPECIFIED: 'OP_UNSPECIFIED',
  OP_MEMCPY: 'OP_MEMCPY',
  OP_FILL: 'OP_FILL',
  OP_XOR: 'OP_XOR',
  OP_XOR_VALIDATE: 'OP_XOR_VALIDATE',
  OP_CRC32C: 'OP_CRC32C',
  OP_COMPARE: 'OP_COMPARE',
  OP_INTERRUPT: 'OP_INTERRUPT',
} as const;

export type Op =
  | 'OP_UNSPECIFIED'
  | 0
  | 'OP_MEMCPY'
  | 1
  | 'OP_FILL'
  | 2
  | 'OP_XOR'
  | 3
  | 'OP_XOR_VALIDATE'
  | 4
  | 'OP_CRC32C'
  | 5
  | 'OP_COMPARE'
  | 6
  | 'OP_INTERRUPT'
  | 7

export type Op__Output = typeof Op[keyof typeof Op]
