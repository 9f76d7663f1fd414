// The bounded derivative-free minimizers against problems with known solutions. Every
// objective here also checks that it is never called outside the box. Evaluation counts are
// printed as test diagnostics (with the spec reporter: lines starting with "ℹ").
import { test } from "node:test";
import assert from "node:assert/strict";
import { bobyqa, nelderMead, OptimOptions, OptimResult } from "../src/engine/optim";

type Fn = (x: Float64Array) => number;
type Method = (f: Fn, x0: ArrayLike<number>, opts?: OptimOptions) => OptimResult;

/** Wraps f so that a call outside [lower, upper] fails the test, and counts the calls. */
function guarded(f: Fn, opts: OptimOptions = {}): { f: Fn; calls: () => number } {
  let calls = 0;
  return {
    f: (x) => {
      calls++;
      for (let i = 0; i < x.length; i++) {
        const lo = opts.lower ? opts.lower[i] : -Infinity, hi = opts.upper ? opts.upper[i] : Infinity;
        assert.ok(x[i] >= lo && x[i] <= hi, `f called outside the box: x[${i}] = ${x[i]} not in [${lo}, ${hi}]`);
      }
      return f(x);
    },
    calls: () => calls,
  };
}

function solve(method: Method, f: Fn, x0: number[], opts: OptimOptions = {}): OptimResult {
  const g = guarded(f, opts);
  const r = method(g.f, x0, opts);
  assert.equal(r.nfev, g.calls(), "nfev counts every call of f");
  return r;
}

/** |x_i - expected_i| <= tol * max(1, |expected_i|) for every i. */
function near(x: ArrayLike<number>, expected: number[], tol: number, what = "x"): void {
  assert.equal(x.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(x[i] - expected[i]);
    assert.ok(err <= tol * Math.max(1, Math.abs(expected[i])), `${what}[${i}] = ${x[i]}, expected ${expected[i]} (error ${err.toExponential(2)} > ${tol})`);
  }
}

function rosenbrock(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++) s += 100 * (x[i + 1] - x[i] * x[i]) ** 2 + (1 - x[i]) ** 2;
  return s;
}

// The profile-likelihood-like problem of the brief: two parameters bounded below by 0,
// narrow in x1, weakly determined in x2 through the product x1 x2.
const profileF: Fn = (x) => (x[0] - 0.6) ** 2 / 0.01 + (x[0] * x[1] - 0.2) ** 2 + x[1] ** 2;
/** Its minimizer: grad = 0 gives x2 = 0.2 x1 / (1 + x1^2) and a one-dimensional root in x1. */
function profileOptimum(): number[] {
  const x2of = (x1: number) => (0.2 * x1) / (1 + x1 * x1);
  const g = (x1: number) => {
    const x2 = x2of(x1);
    return 200 * (x1 - 0.6) + 2 * x2 * (x1 * x2 - 0.2);
  };
  let a = 0.5, b = 0.7;
  for (let i = 0; i < 200; i++) {
    const m = 0.5 * (a + b);
    if (g(m) > 0) b = m;
    else a = m;
  }
  const x1 = 0.5 * (a + b);
  return [x1, x2of(x1)];
}

const OK = "converged";

// ---- BOBYQA ------------------------------------------------------------------------------

test("bobyqa: Rosenbrock 2-D from (-1.2, 1)", (t) => {
  const r = solve(bobyqa, rosenbrock, [-1.2, 1]);
  t.diagnostic(`nfev = ${r.nfev}, x = ${Array.from(r.x)}`);
  assert.equal(r.status, OK, r.message);
  near(r.x, [1, 1], 1e-7);
  assert.ok(r.fval < 1e-14);
  assert.ok(r.nfev <= 300, `nfev ${r.nfev}`);
});

test("bobyqa: Rosenbrock 4-D from (-1.2, 1, -1.2, 1) and from 0", (t) => {
  for (const x0 of [[-1.2, 1, -1.2, 1], [0, 0, 0, 0]]) {
    const r = solve(bobyqa, rosenbrock, x0, { rhobeg: 0.5 });
    t.diagnostic(`x0 = ${x0}: nfev = ${r.nfev}`);
    assert.equal(r.status, OK, r.message);
    near(r.x, [1, 1, 1, 1], 1e-6);
    assert.ok(r.nfev <= 600, `nfev ${r.nfev}`);
  }
});

test("bobyqa: quadratic with its minimum outside the box ends exactly on the bounds", (t) => {
  const f: Fn = (x) => (x[0] - 3) ** 2 + 2 * (x[1] + 2) ** 2 + 3 * (x[2] - 0.5) ** 2;
  const opts = { lower: [-1, -1, -1], upper: [1, 1, 1] };
  const r = solve(bobyqa, f, [0, 0, 0], opts);
  t.diagnostic(`nfev = ${r.nfev}`);
  assert.equal(r.status, OK, r.message);
  assert.equal(r.x[0], 1);
  assert.equal(r.x[1], -1);
  near([r.x[2]], [0.5], 1e-9);
  assert.ok(Math.abs(r.fval - 6) < 1e-15);
});

test("bobyqa: 1-D, minimum exactly at the lower bound 0, started at 0", (t) => {
  const r = solve(bobyqa, (x) => (x[0] + 1) ** 2, [0], { lower: [0] });
  t.diagnostic(`nfev = ${r.nfev}`);
  assert.equal(r.status, OK, r.message);
  assert.equal(r.x[0], 0);
  assert.equal(r.fval, 1);
  assert.ok(r.nfev <= 20, `nfev ${r.nfev}`);
});

test("bobyqa: 1-D, minimum at the lower bound 0, started inside, and a flat-bottomed one", (t) => {
  const r = solve(bobyqa, (x) => 3 * x[0] + (x[0] - 0.2) ** 2, [1], { lower: [0] });
  t.diagnostic(`linear-ish: nfev = ${r.nfev}`);
  assert.equal(r.status, OK, r.message);
  assert.equal(r.x[0], 0);
  // A variance-like objective: zero derivative at the bound (minimum at 0 of x^4).
  const q = solve(bobyqa, (x) => x[0] ** 4 + 2, [0.7], { lower: [0] });
  t.diagnostic(`quartic: nfev = ${q.nfev}, x = ${q.x[0]}`);
  assert.equal(q.status, OK, q.message);
  assert.ok(q.x[0] <= 1e-3, `x = ${q.x[0]}`); // x^4 is flat: f is within 1e-12 of its minimum there
  assert.ok(q.fval - 2 <= 1e-12);
});

test("bobyqa: 1-D and 3-D, started on the bound, minimum in the interior", (t) => {
  const r1 = solve(bobyqa, (x) => (x[0] - 2) ** 2 + 0.1 * (x[0] - 2) ** 4, [0], { lower: [0] });
  t.diagnostic(`1-D: nfev = ${r1.nfev}`);
  assert.equal(r1.status, OK, r1.message);
  near(r1.x, [2], 1e-8);
  const f3: Fn = (x) => (x[0] - 0.3) ** 2 + (x[1] - 1.5) ** 2 + (x[2] - 0.01) ** 2 + 0.5 * (x[0] - 0.3) * (x[1] - 1.5);
  const r3 = solve(bobyqa, f3, [0, 0, 0], { lower: [0, 0, 0] });
  t.diagnostic(`3-D: nfev = ${r3.nfev}`);
  assert.equal(r3.status, OK, r3.message);
  near(r3.x, [0.3, 1.5, 0.01], 1e-8);
});

test("bobyqa: some minima on the bound 0, others inside (variance-parameter-like), n = 8", (t) => {
  const n = 8;
  const c = Array.from({ length: n }, (_, i) => (i % 2 ? -0.5 : 0.7 + 0.1 * i));
  const f: Fn = (x) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (1 + 0.1 * i) * (x[i] - c[i]) ** 2 + (i > 0 ? 0.2 * (x[i] - c[i]) * (x[i - 1] - c[i - 1]) : 0);
    return s;
  };
  // The solution by exact coordinate descent on this convex quadratic (converges to machine precision).
  const xs = c.map((v) => Math.max(v, 0));
  for (let it = 0; it < 500; it++) {
    for (let i = 0; i < n; i++) {
      let g = 2 * (1 + 0.1 * i) * (xs[i] - c[i]);
      if (i > 0) g += 0.2 * (xs[i - 1] - c[i - 1]);
      if (i < n - 1) g += 0.2 * (xs[i + 1] - c[i + 1]);
      xs[i] = Math.max(0, xs[i] - g / (2 * (1 + 0.1 * i)));
    }
  }
  const r = solve(bobyqa, f, new Array(n).fill(1), { lower: new Array(n).fill(0) });
  t.diagnostic(`nfev = ${r.nfev}`);
  assert.equal(r.status, OK, r.message);
  near(r.x, xs, 1e-7);
  for (let i = 1; i < n; i += 2) assert.equal(r.x[i], 0, `x[${i}] exactly on its bound`);
});

test("bobyqa: f = Infinity or NaN in a region (off the solution)", (t) => {
  // Infinite beyond a half-plane crossed by the usual path of Rosenbrock's valley.
  const r = solve(bobyqa, (x) => (x[0] + x[1] > 3 ? Infinity : rosenbrock(x)), [-1.2, 1]);
  t.diagnostic(`Rosenbrock with x1 + x2 > 3 infinite: nfev = ${r.nfev}`);
  assert.equal(r.status, OK, r.message);
  near(r.x, [1, 1], 1e-7);
  // Undefined outside a disc that the first steps leave.
  const d = solve(bobyqa, (x) => (x[0] * x[0] + x[1] * x[1] > 1.5 ? NaN : (x[0] - 1) ** 2 + (x[1] - 0.5) ** 2), [0, 0]);
  t.diagnostic(`NaN outside a disc: nfev = ${d.nfev}`);
  assert.equal(d.status, OK, d.message);
  near(d.x, [1, 0.5], 1e-8);
  // Infinite at some of the initial points.
  const s = solve(bobyqa, (x) => (x[0] < -0.5 || x[1] > 0.5 ? Infinity : (x[0] - 0.2) ** 2 + (x[1] + 0.3) ** 2), [0, 0]);
  t.diagnostic(`Infinite at initial points: nfev = ${s.nfev}`);
  assert.equal(s.status, OK, s.message);
  near(s.x, [0.2, -0.3], 1e-8);
});

test("bobyqa: f not finite anywhere fails cleanly", () => {
  const r = solve(bobyqa, () => NaN, [1, 2]);
  assert.equal(r.status, "failed");
  assert.ok(Number.isNaN(r.fval));
});

test("bobyqa: badly scaled (scales differ by 1e4)", (t) => {
  const f: Fn = (x) => ((x[0] - 5000) / 1e4) ** 2 + (1e4 * (x[1] - 3e-4)) ** 2 + 0.5 * ((x[0] - 5000) / 1e4) * (1e4 * (x[1] - 3e-4));
  const r = solve(bobyqa, f, [0, 0]);
  t.diagnostic(`nfev = ${r.nfev}, x = ${Array.from(r.x)}`);
  assert.equal(r.status, OK, r.message);
  assert.ok(Math.abs(r.x[0] - 5000) <= 1e-6 * 5000, `x0 = ${r.x[0]}`);
  assert.ok(Math.abs(r.x[1] - 3e-4) <= 1e-6 * 3e-4, `x1 = ${r.x[1]}`);
  // The same curvature contrast (1e8) around 1: the step must resolve both scales.
  const g: Fn = (x) => (x[0] - 3) ** 2 + 1e8 * (x[1] - 2e-4) ** 2 + 1e3 * (x[0] - 3) * (x[1] - 2e-4);
  const q = solve(bobyqa, g, [1, 1e-3], { rhobeg: 0.5 });
  t.diagnostic(`second: nfev = ${q.nfev}`);
  assert.equal(q.status, OK, q.message);
  assert.ok(Math.abs(q.x[0] - 3) <= 1e-6 * 3 && Math.abs(q.x[1] - 2e-4) <= 1e-6 * 2e-4, `x = ${Array.from(q.x)}`);
});

test("bobyqa: profile-likelihood-like problem on [0, inf)^2", (t) => {
  const xs = profileOptimum();
  const r = solve(bobyqa, profileF, [1, 1], { lower: [0, 0] });
  t.diagnostic(`nfev = ${r.nfev}, x = ${Array.from(r.x)}, exact ${xs}`);
  assert.equal(r.status, OK, r.message);
  near(r.x, xs, 1e-8);
  assert.ok(Math.abs(r.x[1] - xs[1]) <= 1e-6 * xs[1]);
  // With a pull towards 0 in x2, its solution is exactly on the bound: (0.6, 0).
  const g: Fn = (x) => profileF(x) + 0.5 * x[1];
  const b = solve(bobyqa, g, [1, 1], { lower: [0, 0] });
  t.diagnostic(`bound-active variant: nfev = ${b.nfev}`);
  assert.equal(b.status, OK, b.message);
  near([b.x[0]], [0.6], 1e-8);
  assert.equal(b.x[1], 0);
});

test("bobyqa: larger n (convex quadratic, n = 12) and Rosenbrock n = 10", (t) => {
  const n = 12;
  // A fixed well-conditioned SPD matrix: tridiagonal plus a rank-one term.
  const A = (i: number, j: number) => (i === j ? 3 + 0.1 * i : Math.abs(i - j) === 1 ? -1 : 0) + 0.05;
  const c = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const f: Fn = (x) => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += (x[i] - c[i]) * A(i, j) * (x[j] - c[j]);
    return 0.5 * s;
  };
  const r = solve(bobyqa, f, new Array(n).fill(0));
  t.diagnostic(`quadratic n = 12: nfev = ${r.nfev}`);
  assert.equal(r.status, OK, r.message);
  near(r.x, c, 1e-7);
  const rr = solve(bobyqa, rosenbrock, new Array(10).fill(0), { rhobeg: 0.5, maxfun: 5000 });
  t.diagnostic(`Rosenbrock n = 10: nfev = ${rr.nfev}`);
  assert.equal(rr.status, OK, rr.message);
  near(rr.x, new Array(10).fill(1), 1e-6);
});

test("bobyqa: coordinates with lower == upper stay fixed", (t) => {
  const f: Fn = (x) => (x[0] - 1) ** 2 + (x[1] - 2) ** 2 + (x[2] - 3) ** 2;
  const r = solve(bobyqa, f, [0, 5, 0], { lower: [-10, 5, -10], upper: [10, 5, 10] });
  t.diagnostic(`nfev = ${r.nfev}`);
  assert.equal(r.x[1], 5);
  near([r.x[0], r.x[2]], [1, 3], 1e-8);
  const z = solve(bobyqa, f, [1, 2, 3], { lower: [1, 2, 3], upper: [1, 2, 3] });
  assert.equal(z.nfev, 1);
  assert.equal(z.fval, 0);
});

test("bobyqa: maxfun stops the run with the best point so far", () => {
  let calls = 0;
  const r = bobyqa((x) => (calls++, rosenbrock(x)), [-1.2, 1], { maxfun: 25 });
  assert.equal(r.status, "maxfun");
  assert.equal(r.nfev, 25);
  assert.equal(calls, 25);
  assert.ok(r.fval <= rosenbrock(Float64Array.from([-1.2, 1])));
  assert.equal(r.fval, rosenbrock(r.x));
});

test("bobyqa: shouldStop cancels after the current evaluation", () => {
  let calls = 0;
  const r = bobyqa((x) => (calls++, rosenbrock(x)), [-1.2, 1], { shouldStop: () => calls >= 10 });
  assert.equal(r.status, "cancelled");
  assert.equal(r.nfev, 10);
  assert.equal(calls, 10);
  assert.equal(r.fval, rosenbrock(r.x));
});

test("bobyqa: invalid input is reported, not thrown", () => {
  assert.equal(bobyqa((x) => x[0] ** 2, [NaN]).status, "failed");
  assert.equal(bobyqa((x) => x[0] ** 2, [0], { lower: [1], upper: [0] }).status, "failed");
  assert.equal(bobyqa((x) => x[0] ** 2, [0], { rhobeg: -1 }).status, "failed");
});

test("bobyqa: a start outside the box is moved into it", () => {
  const r = solve(bobyqa, (x) => (x[0] - 0.5) ** 2, [5], { lower: [0], upper: [1] });
  assert.equal(r.status, OK);
  near(r.x, [0.5], 1e-9);
});

// ---- Nelder–Mead -------------------------------------------------------------------------

test("nelderMead: Rosenbrock 2-D and 4-D", (t) => {
  const r = solve(nelderMead, rosenbrock, [-1.2, 1]);
  t.diagnostic(`2-D: nfev = ${r.nfev}`);
  assert.equal(r.status, OK, r.message);
  near(r.x, [1, 1], 1e-7);
  const r4 = solve(nelderMead, rosenbrock, [-1.2, 1, -1.2, 1], { rhobeg: 0.5, maxfun: 20000 });
  t.diagnostic(`4-D: nfev = ${r4.nfev}`);
  assert.equal(r4.status, OK, r4.message);
  near(r4.x, [1, 1, 1, 1], 1e-6);
});

test("nelderMead: bounded quadratic ends on the bounds; 1-D minimum at 0 from 0", (t) => {
  const f: Fn = (x) => (x[0] - 3) ** 2 + 2 * (x[1] + 2) ** 2 + 3 * (x[2] - 0.5) ** 2;
  const r = solve(nelderMead, f, [0, 0, 0], { lower: [-1, -1, -1], upper: [1, 1, 1] });
  t.diagnostic(`box: nfev = ${r.nfev}`);
  assert.equal(r.status, OK, r.message);
  assert.equal(r.x[0], 1);
  assert.equal(r.x[1], -1);
  near([r.x[2]], [0.5], 1e-7);
  const z = solve(nelderMead, (x) => (x[0] + 1) ** 2, [0], { lower: [0] });
  t.diagnostic(`1-D at bound: nfev = ${z.nfev}`);
  assert.equal(z.x[0], 0);
});

test("nelderMead: Infinity in a region, profile-like problem, maxfun and cancellation", (t) => {
  const r = solve(nelderMead, (x) => (x[0] + x[1] > 3 ? Infinity : rosenbrock(x)), [-1.2, 1]);
  t.diagnostic(`Rosenbrock with infinite half-plane: nfev = ${r.nfev}`);
  near(r.x, [1, 1], 1e-7);
  const p = solve(nelderMead, profileF, [1, 1], { lower: [0, 0] });
  t.diagnostic(`profile-like: nfev = ${p.nfev}`);
  near(p.x, profileOptimum(), 1e-7);
  const m = nelderMead(rosenbrock, [-1.2, 1], { maxfun: 30 });
  assert.equal(m.status, "maxfun");
  assert.equal(m.nfev, 30);
  let calls = 0;
  const c = nelderMead((x) => (calls++, rosenbrock(x)), [-1.2, 1], { shouldStop: () => calls >= 7 });
  assert.equal(c.status, "cancelled");
  assert.equal(c.nfev, 7);
});

test("bobyqa: ftolAbs is in f's own units, also when f is large (a deviance at a million rows)", (t) => {
  // A deviance-like objective: 1.7e6 plus a narrow curved valley. BOBYQA works on f rescaled by
  // the spread of its first values; the ftolAbs stop must not be compared on that scale (it
  // then stopped ~1e-2 above the minimum).
  const f: Fn = (x) => 1.7e6 + 1e4 * (rosenbrock(x) + (x[2] - 1) ** 2);
  const r = solve(bobyqa, f, [3, 4, 3], { rhobeg: 0.25, rhoend: 1e-7, ftolAbs: 1e-8, maxfun: 20000 });
  t.diagnostic(`${r.nfev} evaluations, f - min = ${(r.fval - 1.7e6).toExponential(2)}`);
  assert.ok(r.fval - 1.7e6 < 1e-6, `stopped at f - min = ${r.fval - 1.7e6}`);
  near(r.x, [1, 1, 1], 1e-4);
});
