// The task pane's entry (webpack entry "taskpane"): when Office is ready, connect the page
// (DomView), the workbook (Office.js), the shared Web Worker client and the clipboard to the
// controller, and the controls' events to its actions. The logic lives in controller.ts and
// the pure modules beside it.
import { lmmClient } from "../worker/shared";
import { PaneController } from "./controller";
import { ExcelWorkbook } from "./excel-io";
import { ClientFitter } from "./worker-fitter";
import { DomClipboard, DomView } from "./view";

function wire(view: DomView, pane: PaneController): void {
  const on = (id: string, ev: string, fn: (e: Event) => void) => view.el(id).addEventListener(ev, fn);
  on("read", "click", () => void pane.useData());
  on("source", "focus", () => void pane.refreshTables());
  on("fit", "click", () => void pane.fit());
  on("cancel", "click", () => pane.cancel());
  on("rcode", "click", () => void pane.copyR());
  on("compare", "click", () => void pane.compare());
  on("structures", "click", () => void pane.whichStructure());
  on("forget", "click", () => void pane.forget());
  on("rebuild", "click", () => pane.rebuildSpec());
  on("restore", "click", () => {
    const typed = view.typedSpec();
    if (typed !== null) pane.restoreSpec(typed);
  });
  const rebuild = () => {
    view.syncEnabled();
    pane.rebuildSpec();
  };
  for (const id of ["response", "interaction", "group1", "group2", "nested", "crossed", "time", "slope", "residual", "residual-group", "varident", "with-re", "gls"]) on(id, "change", rebuild);
  // The method and the intervals are in the R code: a change makes the shown code stale.
  for (const id of ["reml", "ml", "level", "ci"]) on(id, "change", () => view.showRCode(null));
  on("help-link", "click", (e) => {
    e.preventDefault();
    const help = view.el<HTMLDetailsElement>("help");
    help.open = true;
    help.scrollIntoView({ block: "start" });
    help.querySelector("summary")?.focus();
  });
  on("fixed", "change", rebuild);
  // A typed spec is checked as the user types (after a short pause) and moves the controls.
  let pending: ReturnType<typeof setTimeout> | null = null;
  on("spec", "input", () => {
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = null;
      pane.specEdited();
    }, 250);
  });
  on("spec", "keydown", (e) => {
    const k = e as KeyboardEvent;
    if (k.key === "Enter" && (k.ctrlKey || k.metaKey)) {
      k.preventDefault();
      void pane.fit();
    }
  });
  view.el("main").ownerDocument.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && pane.busy) pane.cancel();
  });
}

Office.onReady(() => {
  const view = new DomView(document);
  const pane = new PaneController(view, new ExcelWorkbook(), new ClientFitter(lmmClient), new DomClipboard(document));
  wire(view, pane);
  view.syncEnabled();
  void pane.start();
});
