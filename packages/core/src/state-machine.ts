/**
 * An explicit state machine: the allowed moves are a table, `transition()` is
 * the only way to move, and an illegal move throws (it is a bug, never input).
 */
export class StateMachine<S extends string> {
  private current: S;

  constructor(
    private readonly kind: string,
    initial: S,
    private readonly allowed: Readonly<Record<S, readonly S[]>>,
    private readonly onTransition?: (change: { kind: string; from: S; to: S }) => void,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  canTransition(to: S): boolean {
    return this.allowed[this.current].includes(to);
  }

  transition(to: S): void {
    if (!this.canTransition(to)) {
      throw new Error(`illegal ${this.kind} transition ${this.current} -> ${to}`);
    }
    const from = this.current;
    this.current = to;
    this.onTransition?.({ kind: this.kind, from, to });
  }
}
