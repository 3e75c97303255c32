/**
 * Sizes of what peers send that the broker stores or echoes (docs/limits.md).
 * Fixed, not options: they bound memory and the cost of every listing, and no
 * honest provider or client comes near them.
 */

/** Labels on one provider, and in one lease selector. */
export const MAX_LABELS = 32;
/** Bytes of one label key (UTF-8). */
export const MAX_LABEL_KEY_BYTES = 128;
/** Bytes of one label value (UTF-8). */
export const MAX_LABEL_VALUE_BYTES = 256;
/** Channels one provider may register. */
export const MAX_PROVIDER_CHANNELS = 256;
/** Sources of one XOR / XOR_VALIDATE descriptor, and the most a provider may declare. */
export const MAX_XOR_SOURCES = 64;
/** Bytes of a provider's profile name. */
export const MAX_PROFILE_BYTES = 64;
/** Characters of any peer-supplied text echoed back in an error (message and metadata values). */
export const MAX_ECHO_CHARS = 256;

/** `text` cut to `max` characters, marked when cut (for echoing peer input into errors and logs). */
export function truncateEcho(text: string, max = MAX_ECHO_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}
