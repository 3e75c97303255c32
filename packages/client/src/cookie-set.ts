/**
 * A set of cookies with bounded memory: cookies are dense (1, 2, 3, ...), so
 * everything up to `floor` is stored as one number and only cookies seen out
 * of order above it are kept individually.
 */
export class CookieSet {
  private floor = 0;
  private readonly above = new Set<number>();

  has(cookie: number): boolean {
    return cookie <= this.floor || this.above.has(cookie);
  }

  add(cookie: number): void {
    if (cookie <= this.floor) return;
    this.above.add(cookie);
    while (this.above.delete(this.floor + 1)) this.floor++;
  }

  /** Every cookie up to this one is in the set. */
  get denseUpTo(): number {
    return this.floor;
  }

  /** Cookies held individually (a memory check for tests). */
  get sparseSize(): number {
    return this.above.size;
  }
}
