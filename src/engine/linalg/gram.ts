// The Gram matrix of a tall row-major matrix: the lower triangle of W'W for W = [X y] (n x p,
// plus an optional last column y), added into `out` (w x w, w = p + 1 with y, else p).
//
// A row at a time, every entry of `out` is a read-modify-write that waits on the last one; four
// rows at a time each entry takes four products per update, which is what makes this about twice
// as fast at a million rows (this is the largest single cost of forming the model).
export function addGram(X: Float64Array, p: number, y: Float64Array | null, n: number, out: Float64Array): void {
  const w = y ? p + 1 : p;
  const b = new Float64Array(w * 4);
  let r = 0;
  for (; r + 3 < n; r += 4) {
    for (let k = 0; k < 4; k++) {
      const xo = (r + k) * p;
      for (let f = 0; f < p; f++) b[f * 4 + k] = X[xo + f];
      if (y) b[p * 4 + k] = y[r + k];
    }
    for (let f = 0; f < w; f++) {
      const f0 = b[f * 4], f1 = b[f * 4 + 1], f2 = b[f * 4 + 2], f3 = b[f * 4 + 3], row = f * w;
      for (let g = 0; g <= f; g++) {
        const go = g * 4;
        out[row + g] += f0 * b[go] + f1 * b[go + 1] + f2 * b[go + 2] + f3 * b[go + 3];
      }
    }
  }
  for (; r < n; r++) {
    const xo = r * p;
    for (let f = 0; f < w; f++) {
      const v = f < p ? X[xo + f] : y![r], row = f * w;
      for (let g = 0; g <= f; g++) out[row + g] += v * (g < p ? X[xo + g] : y![r]);
    }
  }
}
