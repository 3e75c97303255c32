import { describe, expect, it } from "vitest";
import { DmaError, capabilityBit } from "@dmabroker/core";
import { MAX_PROVIDERS_PER_AGENT, PROFILES, expandProviders, loadAgentConfig, profileCapabilityMask } from "@dmabroker/provider-agent";

describe("provider agent configuration", () => {
  it("builds each profile modelled on a real engine", () => {
    expect(PROFILES.ioat).toMatchObject({ ordering: "in-order", public: true });
    expect(PROFILES.dsa).toMatchObject({ ordering: "out-of-order", public: true });
    expect(PROFILES.plx).toMatchObject({ channels: 1, public: false });
    expect(PROFILES.dsa.queueDepth).toBeGreaterThan(PROFILES.ioat.queueDepth);
    expect(profileCapabilityMask(PROFILES.plx) & capabilityBit("xor")).toBe(0);
    expect(profileCapabilityMask(PROFILES.ioat) & capabilityBit("xor")).not.toBe(0);
  });

  it("takes flags over DMABROKER_* variables, with overrides of the profile", () => {
    const c = loadAgentConfig(["--profile", "dsa", "--channels", "2", "--labels", "zone=a,numa=1"], {
      DMABROKER_BROKER: "10.0.0.1:1234",
      DMABROKER_PROFILE: "plx",
      DMABROKER_PROVIDER_ID: "dsa-x",
      DMABROKER_READ_FAILURE_RATE: "0.25",
    });
    expect(c.profile.name).toBe("dsa");
    expect(c.profile.channels).toBe(2);
    expect(c.broker).toBe("10.0.0.1:1234");
    expect(c.providerId).toBe("dsa-x");
    expect(c.readFailureRate).toBe(0.25);
    expect(c.labels).toEqual({ profile: "dsa", zone: "a", numa: "1" });
  });

  it("refuses an unknown profile, a bad label and an out-of-range rate", () => {
    for (const argv of [
      ["--profile", "nvme"],
      ["--labels", "novalue"],
      ["--write-failure-rate", "2"],
      ["--channels", "0"],
    ]) {
      expect(() => loadAgentConfig(argv, {}), argv.join(" ")).toThrow(DmaError);
    }
  });
});

describe("several emulated providers in one agent", () => {
  it("gives each its own id and seed, and keeps one provider as is", () => {
    const one = loadAgentConfig(["--provider-id", "p", "--seed", "7"], {});
    expect(one.providers).toBe(1);
    expect(expandProviders(one)).toEqual([one]);
    const many = loadAgentConfig(["--provider-id", "p", "--seed", "7"], { DMABROKER_PROVIDERS: "3" });
    const each = expandProviders(many);
    expect(each.map((c) => c.providerId)).toEqual(["p-0", "p-1", "p-2"]);
    expect(each.map((c) => c.seed)).toEqual([7, 8, 9]);
    expect(each.every((c) => c.providers === 1 && c.profile === many.profile)).toBe(true);
  });

  it("refuses a provider count out of range", () => {
    for (const n of ["0", "-1", "1.5", String(MAX_PROVIDERS_PER_AGENT + 1)]) {
      expect(() => loadAgentConfig(["--providers", n], {}), n).toThrow(DmaError);
    }
  });
});
