// Original file: proto/dmabroker/v1/types.proto

import type { Memcpy as _dmabroker_v1_Memcpy, Memcpy__Output as _dmabroker_v1_Memcpy__Output } from '../../dmabroker/v1/Memcpy.js';
import type { Fill as _dmabroker_v1_Fill, Fill__Output as _dmabroker_v1_Fill__Output } from '../../dmabroker/v1/Fill.js';
import type { Xor as _dmabroker_v1_Xor, Xor__Output as _dmabroker_v1_Xor__Output } from '../../dmabroker/v1/Xor.js';
import type { XorValidate as _dmabroker_v1_XorValidate, XorValidate__Output as _dmabroker_v1_XorValidate__Output } from '../../dmabroker/v1/XorValidate.js';
import type { Crc32c as _dmabroker_v1_Crc32c, Crc32c__Output as _dmabroker_v1_Crc32c__Output } from '../../dmabroker/v1/Crc32c.js';
import type { Compare as _dmabroker_v1_Compare, Compare__Output as _dmabroker_v1_Compare__Output } from '../../dmabroker/v1/Compare.js';
import type { Interrupt as _dmabroker_v1_Interrupt, Interrupt__Output as _dmabroker_v1_Interrupt__Output } from '../../dmabroker/v1/Interrupt.js';

export interface Descriptor {
  'memcpy'?: (_dmabroker_v1_Memcpy | null);
  'fill'?: (_dmabroker_v1_Fill | null);
  'xor'?: (_dmabroker_v1_Xor | null);
  'xorValidate'?: (_dmabroker_v1_XorValidate | null);
  'crc32c'?: (_dmabroker_v1_Crc32c | null);
  'compare'?: (_dmabroker_v1_Compare | null);
  'interrupt'?: (_dmabroker_v1_Interrupt | null);
  'op'?: "memcpy"|"fill"|"xor"|"xorValidate"|"crc32c"|"compare"|"interrupt";
}

export interface Descriptor__Output {
  'memcpy'?: (_dmabroker_v1_Memcpy__Output | null);
  'fill'?: (_dmabroker_v1_Fill__Output | null);
  'xor'?: (_dmabroker_v1_Xor__Output | null);
  'xorValidate'?: (_dmabroker_v1_XorValidate__Output | null);
  'crc32c'?: (_dmabroker_v1_Crc32c__Output | null);
  'compare'?: (_dmabroker_v1_Compare__Output | null);
  'interrupt'?: (_dmabroker_v1_Interrupt__Output | null);
  'op'?: "memcpy"|"fill"|"xor"|"xorValidate"|"crc32c"|"compare"|"interrupt";
}
