/**
 * An independent float64 implementation of each architecture's training loss, written from the
 * SAELens v6 definitions (not from the graphs), for central-difference gradient checks.
 * Parameters use the training layout (W_encT [S, d], W_dec [S, d]).
 */
export interface ReferenceSetup {
  architecture: 'standard' | 'topk' | 'batchtopk' | 'jumprelu' | 'gated';
  dIn: number;
  dSae: number;
  batch: number;
  k: number;
  coefficient: number;
  /** AuxK (topk/batchtopk): dead latents, k_aux and the scale (coefficient × min(nDead/(d/2), 1)). */
  dead?: number[];
  kAux?: number;
  auxScale?: number;
}

type P = Record<string, Float64Array>;

/** Returns the loss; `residual` (x - recon, AuxK's detached target) is held fixed when given. */
export function referenceLoss(s: ReferenceSetup, p: P, x: Float64Array, residual?: Float64Array): { loss: number; residual: Float64Array } {
  const { dIn: d, dSae: S, batch: B } = s;
  const xc = new Float64Array(B * d);
  for (let b = 0; b < B; b++) for (let j = 0; j < d; j++) xc[b * d + j] = x[b * d + j] - p.b_dec[j];
  const P0 = new Float64Array(B * S); // xc W_encT^T
  for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) {
    let acc = 0;
    for (let j = 0; j < d; j++) acc += xc[b * d + j] * p.W_encT[i * d + j];
    P0[b * S + i] = acc;
  }
  const n = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    let acc = 0;
    for (let j = 0; j < d; j++) acc += p.W_dec[i * d + j] ** 2;
    n[i] = Math.sqrt(acc);
  }
  // coef [B, S]: what multiplies W_dec rows in the reconstruction.
  const coef = new Float64Array(B * S);
  let sparsity = 0;
  let extra = 0;
  const h = new Float64Array(B * S);
  if (s.architecture === 'standard') {
    for (let q = 0; q < B * S; q++) {
      const z = Math.max(P0[q] + p.b_enc[q % S], 0);
      coef[q] = z;
      sparsity += (s.coefficient / B) * z * n[q % S];
    }
  } else if (s.architecture === 'topk' || s.architecture === 'batchtopk') {
    for (let q = 0; q < B * S; q++) h[q] = (P0[q] + p.b_enc[q % S]) * n[q % S];
    if (s.architecture === 'topk') {
      for (let b = 0; b < B; b++) {
        const order = [...Array(S).keys()].sort((i, j) => h[b * S + j] - h[b * S + i]).slice(0, s.k);
        for (const i of order) coef[b * S + i] = Math.max(h[b * S + i], 0) / n[i];
      }
    } else {
      const order = [...Array(B * S).keys()].sort((a, c) => Math.max(h[c], 0) - Math.max(h[a], 0)).slice(0, Math.floor(s.k * B));
      for (const q of order) coef[q] = Math.max(h[q], 0) / n[q % S];
    }
  } else if (s.architecture === 'jumprelu') {
    for (let q = 0; q < B * S; q++) {
      const pre = P0[q] + p.b_enc[q % S];
      const on = pre > Math.max(p.threshold[q % S], 0);
      coef[q] = on ? pre : 0;
      sparsity += on ? s.coefficient / B : 0;
    }
  } else {
    const g = new Float64Array(B * S);
    for (let q = 0; q < B * S; q++) {
      const i = q % S;
      const piGate = P0[q] + p.b_gate[i];
      const piMag = P0[q] * Math.exp(p.r_mag[i]) + p.b_mag[i];
      coef[q] = piGate > 0 ? Math.max(piMag, 0) : 0;
      g[q] = Math.max(piGate, 0);
      sparsity += (s.coefficient / B) * g[q] * n[i];
    }
    extra = meanSquaredError(decode(g, p, B, S, d, true), x, B);
  }
  const recon = decode(coef, p, B, S, d, true);
  const mse = meanSquaredError(recon, x, B);
  const res = residual ?? recon.map((r, q) => x[q] - r);
  if (s.dead && s.dead.length > 0 && (s.architecture === 'topk' || s.architecture === 'batchtopk')) {
    const auxCoef = new Float64Array(B * S);
    for (let b = 0; b < B; b++) {
      const order = [...s.dead].sort((i, j) => h[b * S + j] - h[b * S + i]).slice(0, s.kAux);
      for (const i of order) auxCoef[b * S + i] = h[b * S + i] / n[i];
    }
    extra = s.auxScale! * meanSquaredError(decode(auxCoef, p, B, S, d, false), res, B);
  }
  return { loss: mse + sparsity + extra, residual: res };
}

function decode(coef: Float64Array, p: P, B: number, S: number, d: number, bias: boolean): Float64Array {
  const out = new Float64Array(B * d);
  for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) {
    const c = coef[b * S + i];
    if (c === 0) continue;
    for (let j = 0; j < d; j++) out[b * d + j] += c * p.W_dec[i * d + j];
  }
  if (bias) for (let q = 0; q < B * d; q++) out[q] += p.b_dec[q % d];
  return out;
}

function meanSquaredError(a: Float64Array, b: Float64Array, B: number): number {
  let acc = 0;
  for (let q = 0; q < a.length; q++) acc += (a[q] - b[q]) ** 2;
  return acc / B;
}
