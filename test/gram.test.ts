// The row kernels of linalg/gram.ts (tiles of columns, chunks of rows) against the plain sums,
// for every width the tiles split differently (1 to 13 columns, with and without y) and row
// counts around the chunk size.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/engine/inference/rng";
import { GRAM_CHUNK, addCrossRows, addGram, addGramRows, minusRows, timesUpper } from "../src/engine/linalg/gram";

const rng = new Rng(11);
const WIDTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13];
const ROWS = [0, 1, 3, GRAM_CHUNK - 1, GRAM_CHUNK, GRAM_CHUNK + 3, 2 * GRAM_CHUNK + 5];
const randn = (k: number): Float64Array => Float64Array.from({ length: k }, () => rng.normal());
const close = (got: number, want: number, what: string): void => {
  assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
};

test("addGram and addGramRows: the lower triangle of [X y]'[X y], upper triangle untouched", () => {
  for (const p of [0, ...WIDTHS]) {
    for (const n of ROWS) {
      for (const withY of [false, true]) {
        if (p === 0 && !withY) continue;
        const X = randn(n * p), y = randn(n), w = withY ? p + 1 : p;
        const got = new Float64Array(w * w).fill(0.5);
        addGram(X, p, withY ? y : null, n, got);
        const split = new Float64Array(w * w).fill(0.5);
        const cut = Math.min(n, GRAM_CHUNK);
        addGramRows(X, p, withY ? y : null, 0, cut, split);
        addGramRows(X, p, withY ? y : null, cut, n, split);
        for (let f = 0; f < w; f++) for (let g = 0; g < w; g++) {
          let want = 0.5;
          if (g <= f) for (let r = 0; r < n; r++) want += (f < p ? X[r * p + f] : y[r]) * (g < p ? X[r * p + g] : y[r]);
          close(got[f * w + g], want, `p ${p}, n ${n}, y ${withY}, (${f}, ${g})`);
          close(split[f * w + g], want, `rows in two calls, p ${p}, n ${n}, (${f}, ${g})`);
        }
      }
    }
  }
});

test("addCrossRows: X'y over a range of rows", () => {
  for (const p of WIDTHS) {
    for (const n of ROWS) {
      const X = randn(n * p), y = randn(n), got = new Float64Array(p + 1).fill(0.25);
      const from = Math.min(2, n);
      addCrossRows(X, p, y, from, n, got);
      for (let j = 0; j < p; j++) {
        let want = 0.25;
        for (let r = from; r < n; r++) want += X[r * p + j] * y[r];
        close(got[j], want, `p ${p}, n ${n}, column ${j}`);
      }
      assert.equal(got[p], 0.25);
    }
  }
});

test("timesUpper: rows times an upper-triangular matrix, into another array or in place", () => {
  for (const p of WIDTHS) {
    for (const n of [1, 7, GRAM_CHUNK + 1]) {
      const X = randn(n * p), M = new Float64Array(p * p);
      for (let i = 0; i < p; i++) for (let j = i; j < p; j++) M[i * p + j] = rng.normal();
      const want = new Float64Array(n * p);
      for (let r = 0; r < n; r++) for (let j = 0; j < p; j++) {
        let s = 0;
        for (let k = 0; k <= j; k++) s += X[r * p + k] * M[k * p + j];
        want[r * p + j] = s;
      }
      const out = new Float64Array(n * p).fill(NaN);
      timesUpper(X, out, p, M, 0, n);
      const inPlace = Float64Array.from(X);
      timesUpper(inPlace, inPlace, p, M, 0, n);
      for (let i = 0; i < n * p; i++) {
        close(out[i], want[i], `p ${p}, n ${n}, entry ${i}`);
        close(inPlace[i], want[i], `in place, p ${p}, n ${n}, entry ${i}`);
      }
    }
  }
});

test("minusRows: y - X d over a range of rows, into another array or in place", () => {
  for (const p of [0, ...WIDTHS]) {
    const n = 9, X = randn(n * p), d = randn(p), y = randn(n);
    const out = new Float64Array(n).fill(7);
    minusRows(X, p, d, y, out, 2, n);
    const inPlace = Float64Array.from(y);
    minusRows(X, p, d, inPlace, inPlace, 2, n);
    for (let r = 0; r < n; r++) {
      let want = y[r];
      if (r >= 2) for (let j = 0; j < p; j++) want -= X[r * p + j] * d[j];
      close(out[r], r >= 2 ? want : 7, `p ${p}, row ${r}`);
      close(inPlace[r], want, `in place, p ${p}, row ${r}`);
    }
  }
});
