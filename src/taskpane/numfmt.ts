// A number as Excel shows it under a format code: the codes the pane writes (General, "@", "0",
// "0.000", "0.0%", "0.000E+00", and sections with a condition and quoted text such as
// [<0.001]"< .001";0.000). The pane's results card uses it so the pane shows what the sheet
// shows; the tests' sheet renderer uses it to draw the sheet as Excel would. Codes outside this
// subset (dates, fractions, colours) fall back to General.

interface Section {
  cond: { op: string; value: number } | null;
  body: string;
}

/** Split a code into its ';' sections (not inside quotes), each with its [cond] if any. */
function sections(code: string): Section[] {
  const parts: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of code) {
    if (ch === '"') quoted = !quoted;
    if (ch === ";" && !quoted) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => {
    const m = /^\[(<=|>=|<>|<|>|=)(-?[0-9.eE+-]+)\]/.exec(p);
    // Colours and locale tags ([Red], [$-409]) are not drawn.
    return { cond: m ? { op: m[1], value: Number(m[2]) } : null, body: p.replace(/\[[^\]]*\]/g, "") };
  });
}

function holds(op: string, x: number, v: number): boolean {
  switch (op) {
    case "<": return x < v;
    case "<=": return x <= v;
    case ">": return x > v;
    case ">=": return x >= v;
    case "=": return x === v;
    default: return x !== v;
  }
}

/** Excel's General: up to 11 characters, scientific when a number does not fit. */
export function general(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e11 || a < 1e-9) return x.toExponential(5).replace(/\.?0+e/, "e").replace("e", "E").replace(/E([+-])(\d)$/, "E$10$2");
  const intDigits = Math.max(1, Math.floor(Math.log10(a)) + 1);
  const room = Math.max(0, 10 - intDigits - (x < 0 ? 1 : 0));
  return String(Number(x.toFixed(Math.min(room, 9))));
}

/** One section's body applied to |x| (the sign is handled by the caller). */
function body(x: number, b: string): string {
  // Quoted and escaped literals stay as written; the rest is a number pattern.
  const lit: string[] = [];
  const pattern = b.replace(/"([^"]*)"|\\(.)/g, (_, q, e) => {
    lit.push(q ?? e);
    return `\u0000${lit.length - 1}\u0000`;
  });
  const restore = (s: string) => s.replace(/\u0000(\d+)\u0000/g, (_, k) => lit[Number(k)]);
  const num = /[0#?][0#?,]*(\.[0#?]*)?(%)?(E[+-][0#]+)?/i.exec(pattern);
  if (!num) return restore(pattern);
  const decimals = num[1] ? num[1].length - 1 : 0;
  const percent = !!num[2] || /%/.test(pattern.slice(num.index + num[0].length));
  const thousands = /,/.test(num[0].split(".")[0]);
  let text: string;
  if (num[3]) {
    const expDigits = num[3].length - 2;
    const [m, e] = x.toExponential(decimals).split("e");
    const ev = Number(e);
    text = `${m}E${ev < 0 ? "-" : "+"}${String(Math.abs(ev)).padStart(expDigits, "0")}`;
  } else {
    text = (percent ? x * 100 : x).toFixed(decimals);
    if (thousands) {
      const [i, f] = text.split(".");
      text = i.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (f !== undefined ? `.${f}` : "");
    }
    if (/^0\./.test(text) && /^#/.test(num[0])) text = text.slice(1);
    if (num[2]) text += "%";
  }
  return restore(pattern.slice(0, num.index) + text + pattern.slice(num.index + num[0].length));
}

/** A cell's text under `code`, as Excel shows it. */
export function formatValue(v: unknown, code: string | null | undefined): string {
  if (v === null || v === undefined || v === "") return "";
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  if (typeof v !== "number") return String(v);
  const c = (code ?? "General").trim();
  if (c === "" || /^general$/i.test(c) || c === "@") return general(v);
  const secs = sections(c);
  if (secs.some((s) => s.cond)) {
    // Conditional sections: the first whose condition holds, else the first without one.
    const hit = secs.find((s) => s.cond && holds(s.cond.op, v, s.cond.value)) ?? secs.find((s) => !s.cond) ?? secs[secs.length - 1];
    return v < 0 && !hit.cond ? `-${body(-v, hit.body)}` : body(Math.abs(v), hit.body);
  }
  if (secs.length >= 2 && v < 0) return body(-v, secs[1].body);
  if (secs.length >= 3 && v === 0) return body(0, secs[2].body);
  return v < 0 ? `-${body(-v, secs[0].body)}` : body(v, secs[0].body);
}
