import { describe, expect, it } from "vitest";
import { DmaError, Settings, settingNames } from "@dmabroker/core";

const NAMES = settingNames(["grpcPort", "logLevel", "failureRate"] as const);

describe("Settings", () => {
  it("spells camelCase keys as --kebab-case flags and DMABROKER_ variables", () => {
    expect(NAMES.grpcPort).toEqual({ flag: "grpc-port", env: "DMABROKER_GRPC_PORT" });
    expect(Settings.envVars(NAMES)).toEqual(["DMABROKER_GRPC_PORT", "DMABROKER_LOG_LEVEL", "DMABROKER_FAILURE_RATE"]);
  });

  it("reads flags over variables over defaults; an empty value is unset", () => {
    const s = Settings.read(NAMES, ["--grpc-port", "7001"], { DMABROKER_GRPC_PORT: "7000", DMABROKER_LOG_LEVEL: "" });
    expect(s.number("grpcPort", 1, { min: 0 })).toBe(7001);
    expect(s.oneOf("logLevel", "info", ["info", "debug"])).toBe("info");
    expect(Settings.read(NAMES, [], { DMABROKER_GRPC_PORT: "7000" }).number("grpcPort", 1, { min: 0 })).toBe(7000);
    expect(Settings.read(NAMES, ["--failure-rate", "0.25"], {}).number("failureRate", 0, { min: 0, max: 1, integer: false })).toBe(0.25);
  });

  it("refuses bad values and unknown flags with INVALID_ARGUMENT naming both spellings", () => {
    const bad = (fn: () => unknown): DmaError => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(DmaError);
        return err as DmaError;
      }
      throw new Error("did not throw");
    };
    expect(bad(() => Settings.read(NAMES, ["--grpc-port", "x"], {}).number("grpcPort", 1, { min: 0 })).message).toBe(
      '--grpc-port / DMABROKER_GRPC_PORT must be an integer ≥ 0, got "x"',
    );
    expect(bad(() => Settings.read(NAMES, [], { DMABROKER_FAILURE_RATE: "2" }).number("failureRate", 0, { min: 0, max: 1, integer: false })).message).toContain(
      "a number in 0..1",
    );
    expect(bad(() => Settings.read(NAMES, ["--log-level", "loud"], {}).oneOf("logLevel", "info", ["info", "debug"])).message).toContain(
      "must be one of info, debug",
    );
    expect(bad(() => Settings.read(NAMES, ["--nope", "1"], {})).reason).toBe("INVALID_ARGUMENT");
  });
});
