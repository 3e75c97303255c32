// Flag values shared by the scripts' command lines (chaos, fuzz).

/** An integer flag in min..max, or an error that names the flag and what it got. */
export function intArg(name, text, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  return n;
}
