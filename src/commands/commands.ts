// Ribbon commands. The ribbon button opens the task pane (a ShowTaskpane action in the
// manifest), so there is nothing to run here beyond being ready.
Office.onReady(() => undefined);
