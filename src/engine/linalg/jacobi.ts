// One sweep of cyclic Jacobi rotations on a symmetric n x n matrix (full storage): the shared
// step of the small eigen-decompositions (moment-start.ts's eigenvalue floor, tail-profile.ts's
// tail block). Each caller keeps its own stopping rule.

/** One cyclic sweep: every off-diagonal a_ij rotated to 0 in turn; v accumulates the rotations. */
export function jacobiSweep(a: Float64Array, v: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const aij = a[i * n + j];
      if (aij === 0) continue;
      const tau = (a[j * n + j] - a[i * n + i]) / (2 * aij);
      const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
      const c = 1 / Math.sqrt(1 + t * t), s = t * c;
      for (let k = 0; k < n; k++) {
        const ki = a[k * n + i], kj = a[k * n + j];
        a[k * n + i] = c * ki - s * kj;
        a[k * n + j] = s * ki + c * kj;
      }
      for (let k = 0; k < n; k++) {
        const ik = a[i * n + k], jk = a[j * n + k];
        a[i * n + k] = c * ik - s * jk;
        a[j * n + k] = s * ik + c * jk;
      }
      for (let k = 0; k < n; k++) {
        const ki = v[k * n + i], kj = v[k * n + j];
        v[k * n + i] = c * ki - s * kj;
        v[k * n + j] = s * ki + c * kj;
      }
    }
  }
}
