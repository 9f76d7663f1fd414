// The CustomFunctions global that Excel's runtime provides, for calling the functions in Node.
class CfError extends Error {
  constructor(readonly code: string, message?: string) {
    super(message);
    this.name = "CustomFunctions.Error";
  }
}
const g = globalThis as unknown as { CustomFunctions: unknown };
g.CustomFunctions = {
  Error: CfError,
  ErrorCode: {
    invalidValue: "#VALUE!", notAvailable: "#N/A", divisionByZero: "#DIV/0!", invalidNumber: "#NUM!",
    nullReference: "#NULL!", invalidName: "#NAME?", invalidReference: "#REF!",
  },
  associate: () => undefined,
};

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

export { CfError };
