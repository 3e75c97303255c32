import { describe, expect, it } from "vitest";
import { LEASE_TRANSITIONS, PROVIDER_TRANSITIONS, StateMachine } from "@dmabroker/core";
import type { LeaseState, ProviderState } from "@dmabroker/core";

type Light = "red" | "green" | "yellow";
const LIGHT: Record<Light, readonly Light[]> = { red: ["green"], green: ["yellow"], yellow: ["red"] };

describe("StateMachine", () => {
  it("moves along allowed edges and reports each move", () => {
    const seen: { kind: string; from: Light; to: Light }[] = [];
    const m = new StateMachine<Light>("light", "red", LIGHT, (c) => seen.push(c));
    expect(m.state).toBe("red");
    m.transition("green");
    m.transition("yellow");
    expect(m.state).toBe("yellow");
    expect(seen).toEqual([
      { kind: "light", from: "red", to: "green" },
      { kind: "light", from: "green", to: "yellow" },
    ]);
  });

  it("throws on an illegal move, naming it, and stays where it was without reporting", () => {
    const seen: unknown[] = [];
    const m = new StateMachine<Light>("light", "red", LIGHT, (c) => seen.push(c));
    expect(m.canTransition("yellow")).toBe(false);
    expect(() => m.transition("yellow")).toThrow(/illegal light transition red -> yellow/);
    // A self-loop is not allowed unless listed.
    expect(() => m.transition("red")).toThrow(/red -> red/);
    expect(m.state).toBe("red");
    expect(seen).toEqual([]);
  });
});

describe("provider lifecycle table", () => {
  const states = Object.keys(PROVIDER_TRANSITIONS) as ProviderState[];

  it("names only known states", () => {
    for (const s of states) for (const t of PROVIDER_TRANSITIONS[s]) expect(states).toContain(t);
  });

  it("never brings a lost or removed incarnation back (a comeback is a new epoch); freed is final", () => {
    for (const tomb of ["lost", "removed"] as const) {
      const m = new StateMachine<ProviderState>("provider", tomb, PROVIDER_TRANSITIONS);
      for (const s of ["online", "suspect", "draining", "lost", "removed"] as const) {
        expect(() => m.transition(s)).toThrow();
      }
      m.transition("freed");
    }
    const freed = new StateMachine<ProviderState>("provider", "freed", PROVIDER_TRANSITIONS);
    for (const s of states) expect(() => freed.transition(s)).toThrow();
  });

  it("lets a suspect provider recover and a present one be lost without passing through suspect", () => {
    const m = new StateMachine<ProviderState>("provider", "online", PROVIDER_TRANSITIONS);
    m.transition("suspect");
    m.transition("online");
    m.transition("lost");
    expect(() => new StateMachine<ProviderState>("provider", "online", PROVIDER_TRANSITIONS).transition("freed")).toThrow();
    const d = new StateMachine<ProviderState>("provider", "draining", PROVIDER_TRANSITIONS);
    expect(() => d.transition("online")).toThrow();
  });
});

describe("lease lifecycle table", () => {
  const ended: LeaseState[] = ["released", "expired", "revoked", "provider_gone"];
  const all = Object.keys(LEASE_TRANSITIONS) as LeaseState[];

  it("makes every ended state final", () => {
    for (const e of ended) {
      const m = new StateMachine<LeaseState>("lease", e, LEASE_TRANSITIONS);
      for (const s of all) expect(() => m.transition(s), `${e} -> ${s}`).toThrow();
    }
  });

  it("lets a lease go active ⇄ suspended and end from either", () => {
    for (const e of ended) {
      const m = new StateMachine<LeaseState>("lease", "active", LEASE_TRANSITIONS);
      m.transition("suspended");
      m.transition("active");
      m.transition("suspended");
      m.transition(e);
      expect(m.state).toBe(e);
    }
  });
});
