// What Excel's shared runtime provides, for calling the functions in Node: the CustomFunctions
// global (Error, ErrorCode) and an engine runner for the shared client (the add-in uses Web
// Workers; here the engine runs in-process). Import this before the functions.
import assert from "node:assert/strict";
import { lmmClient } from "../../src/worker/shared";
import { InProcessRunner } from "../../src/worker/inprocess";

class CfError extends Error {
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message);
    this.name = "CustomFunctions.Error";
  }
}
const g = globalThis as unknown as { CustomFunctions: unknown };
g.CustomFunctions = {
  Error: CfError,
  ErrorCode: {
    invalidValue: "#VALUE!",
    notAvailable: "#N/A",
    divisionByZero: "#DIV/0!",
    invalidNumber: "#NUM!",
    nullReference: "#NULL!",
    invalidName: "#NAME?",
    invalidReference: "#REF!",
  },
  associate: () => undefined,
};

/** The runner the functions use in these tests (count its `calls`). */
export const runner = new InProcessRunner();
lmmClient.setRunner(runner);

/** A cancellation handle as Excel passes it; `cancel()` plays Excel superseding the call. */
export function invocation(): CustomFunctions.CancelableInvocation & { cancel(): void } {
  const inv = {
    onCanceled: undefined as undefined | (() => void),
    cancel() {
      inv.onCanceled?.();
    },
  };
  return inv as unknown as CustomFunctions.CancelableInvocation & { cancel(): void };
}

/** An error cell as Excel passes it once allowErrorForDataTypeAny is set. */
export function errorCell(code = "#N/A"): unknown {
  return new CfError(code, undefined);
}

export { CfError };

/** Awaits p and asserts it fails as Excel shows it: a CustomFunctions.Error #VALUE! whose message matches re. */
export async function expectValueError(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CfError, `not a CustomFunctions.Error: ${e}`);
    assert.equal(e.code, "#VALUE!");
    assert.match(e.message, re);
    return;
  }
  assert.fail(`no error (wanted ${re})`);
}
