"""NumPy/PyTorch twin of bench/features.ts: the same per-feature statistics over the same feature
activations, vectorised batch by batch the way one would write it in NumPy/PyTorch:

  density (fired counts), sums, the exact doubling histogram (bin width 2^e, e grown so the bins
  cover [0, max]), top-k with context windows (candidates above each feature's current k-th value,
  merged by lexsort), interval examples (per interval the R smallest hash keys, the same
  mix32-based keys as src/core/analysis/sample-hash.ts), and the token sample of hashed rows.

bench/features.ts writes the activations (sparse, L0 entries per token) and token ids into --dir;
both sides densify each batch into [batch, d_sae] outside the timed region. Prints one JSON line:
{"seconds": ..., "digest": {...}, "torch": version}.

  .venv/bin/python bench/features_torch.py --dir /tmp/x --tokens 1048576 --d-sae 4096 --l0 32 --context 128
"""
import argparse
import json
import math
import time

import numpy as np
import torch

U32 = np.uint32


def mix32(h):
    h = h.astype(U32, copy=True)
    h ^= h >> U32(16)
    h *= U32(0x7FEB352D)
    h ^= h >> U32(15)
    h *= U32(0x846CA68B)
    h ^= h >> U32(16)
    return h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tokens", type=int, required=True)
    ap.add_argument("--d-sae", type=int, required=True)
    ap.add_argument("--l0", type=int, required=True)
    ap.add_argument("--context", type=int, required=True)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--topk", type=int, default=20)
    ap.add_argument("--before", type=int, default=12)
    ap.add_argument("--after", type=int, default=4)
    ap.add_argument("--bins", type=int, default=64)
    ap.add_argument("--groups", type=int, default=8)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample-p", type=float, default=0.016)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    N, S, L0, C, B, K, NB, G, R = a.tokens, a.d_sae, a.l0, a.context, a.batch, a.topk, a.bins, a.groups, a.samples
    W = a.before + 1 + a.after
    log_nb = int(math.log2(NB))
    shift = int(math.log2(NB // G))
    feats = np.fromfile(f"{a.dir}/features.u32", dtype=U32).reshape(N, L0)
    vals = np.fromfile(f"{a.dir}/values.f32", dtype=np.float32).reshape(N, L0)
    ids_all = np.fromfile(f"{a.dir}/ids.u32", dtype=U32)

    count = np.zeros(S)
    total = np.zeros(S)
    expo = np.full(S, -10_000, dtype=np.int64)  # unset
    hist = np.zeros((S, NB))
    top_n = np.zeros(S, dtype=np.int64)
    top_v = np.full((S, K), -np.inf, dtype=np.float32)
    top_seq = np.zeros((S, K), dtype=np.int64)
    top_ids = np.zeros((S, K, W), dtype=U32)
    top_vals = np.zeros((S, K, W), dtype=np.float32)
    s_key = np.full((S, G, R), 2**32, dtype=np.int64)
    s_v = np.zeros((S, G, R), dtype=np.float32)
    s_seq = np.zeros((S, G, R), dtype=np.int64)
    s_ids = np.zeros((S, G, R, W), dtype=U32)
    s_vals = np.zeros((S, G, R, W), dtype=np.float32)
    sample_f, sample_v = [], []
    offs = np.arange(-a.before, a.after + 1)

    def windows(n_idx, f_idx, A, ids, base):
        pos = n_idx[:, None] + offs[None, :]
        start = (n_idx // C) * C
        ok = (pos >= start[:, None]) & (pos < start[:, None] + C) & (pos >= 0) & (pos < A.shape[0])
        p = np.clip(pos, 0, A.shape[0] - 1)
        return np.where(ok, ids[p], U32(0)), np.where(ok, A[p, f_idx[:, None]], np.float32(0))

    def exponent_for(v):
        e = np.floor(np.log2(v)).astype(np.int64) - log_nb + 1
        e = np.where(v >= NB * np.exp2(e), e + 1, e)
        return np.where(v < NB * np.exp2(e - 1), e - 1, e)

    dense = torch.zeros(B, S)
    seconds = 0.0
    for b0 in range(0, N, B):
        n = min(B, N - b0)
        # Densify (not timed: the SAE graph hands both engines a dense batch).
        dense.zero_()
        rows = torch.arange(n)[:, None].expand(n, L0)
        dense[rows, torch.from_numpy(feats[b0:b0 + n].astype(np.int64))] = torch.from_numpy(vals[b0:b0 + n])
        A_t = dense[:n]
        ids = ids_all[b0:b0 + n]
        t0 = time.perf_counter()
        A = A_t.numpy()
        nz = A_t > 0
        count += nz.sum(0).numpy()
        total += A_t.sum(0, dtype=torch.float64).numpy()
        bmax = A_t.max(0).values.numpy()
        # Histogram range: initialise new features, merge bins of features whose max grew.
        need = np.where(bmax > 0, exponent_for(np.maximum(bmax, 1e-30)), -10_000)
        fresh = (expo == -10_000) & (need != -10_000)
        expo[fresh] = need[fresh]
        grow = (expo != -10_000) & (need > expo)
        steps = np.where(grow, np.minimum(need - expo, log_nb), 0)
        for s in np.unique(steps[steps > 0]):
            fs = np.nonzero(steps == s)[0]
            m = 2 ** int(s)
            merged = hist[fs].reshape(len(fs), NB // m, m).sum(-1)
            hist[fs] = 0
            hist[fs, : NB // m] = merged
            # Interval groups g' = g >> s; keep the R smallest keys of each merged group.
            gm = min(m, G)
            fk, gk, rk = np.meshgrid(fs, np.arange(G), np.arange(R), indexing="ij")
            keys = s_key[fk, gk, rk].ravel()
            live = keys < 2**32
            f1, g1, r1, k1 = fk.ravel()[live], (gk.ravel() // gm)[live], rk.ravel()[live], keys[live]
            src_g = gk.ravel()[live]
            order = np.lexsort((k1, g1, f1))
            f1, g1, src_g, r1, k1 = f1[order], g1[order], src_g[order], r1[order], k1[order]
            grp = f1 * G + g1
            first = np.r_[0, np.nonzero(np.diff(grp))[0] + 1]
            rank = np.arange(len(grp)) - np.repeat(first, np.diff(np.r_[first, len(grp)]))
            keep = rank < R
            vals_v, vals_seq = s_v[f1, src_g, r1], s_seq[f1, src_g, r1]
            vals_ids, vals_w = s_ids[f1, src_g, r1], s_vals[f1, src_g, r1]
            s_key[fs] = 2**32
            s_key[f1[keep], g1[keep], rank[keep]] = k1[keep]
            s_v[f1[keep], g1[keep], rank[keep]] = vals_v[keep]
            s_seq[f1[keep], g1[keep], rank[keep]] = vals_seq[keep]
            s_ids[f1[keep], g1[keep], rank[keep]] = vals_ids[keep]
            s_vals[f1[keep], g1[keep], rank[keep]] = vals_w[keep]
        expo = np.where(grow, need, expo)
        n_all, f_all = np.nonzero(A)
        v_all = A[n_all, f_all]
        bins = np.floor(v_all * np.exp2(-expo[f_all])).astype(np.int64)
        hist += np.bincount(f_all * NB + bins, minlength=S * NB).reshape(S, NB)
        # Top-k: candidates above the current k-th value, merged with the kept ones by lexsort.
        thr = np.where(top_n == K, top_v[:, K - 1], 0).astype(np.float32)
        cn, cf = np.nonzero(A > thr[None, :])
        if len(cn):
            aff = np.unique(cf)
            ef, ej = np.nonzero(np.isin(np.arange(S), aff)[:, None] & (np.arange(K)[None, :] < top_n[:, None]))
            f_c = np.r_[ef, cf]
            v_c = np.r_[top_v[ef, ej], A[cn, cf]]
            seq_c = np.r_[top_seq[ef, ej], b0 + cn]
            src = np.r_[-1 - ej, np.arange(len(cn))]
            order = np.lexsort((seq_c, -v_c, f_c))
            f_c, v_c, seq_c, src = f_c[order], v_c[order], seq_c[order], src[order]
            first = np.r_[0, np.nonzero(np.diff(f_c))[0] + 1]
            rank = np.arange(len(f_c)) - np.repeat(first, np.diff(np.r_[first, len(f_c)]))
            keep = rank < K
            f_c, v_c, seq_c, src, rank = f_c[keep], v_c[keep], seq_c[keep], src[keep], rank[keep]
            old = src < 0
            new_ids = np.zeros((len(f_c), W), dtype=U32)
            new_w = np.zeros((len(f_c), W), dtype=np.float32)
            new_ids[old] = top_ids[f_c[old], -1 - src[old]]
            new_w[old] = top_vals[f_c[old], -1 - src[old]]
            wi, ww = windows(cn[src[~old]], cf[src[~old]], A, ids, b0)
            new_ids[~old], new_w[~old] = wi, ww
            top_v[f_c, rank], top_seq[f_c, rank], top_ids[f_c, rank], top_vals[f_c, rank] = v_c, seq_c, new_ids, new_w
            top_n[aff] = np.bincount(f_c, minlength=S)[aff]
        # Interval examples: hash keys below the group's current R-th smallest.
        row = (b0 + n_all) // C
        tok = (b0 + n_all) % C
        th = mix32(mix32(U32(a.seed) ^ row.astype(U32)) ^ tok.astype(U32))
        key = mix32(th ^ f_all.astype(U32)).astype(np.int64)
        g_all = bins >> shift
        thr_s = np.where((s_key < 2**32).all(-1), s_key.max(-1), 2**32)
        cand = key < thr_s[f_all, g_all]
        if cand.any():
            cf, cg, ck, cn2, cv = f_all[cand], g_all[cand], key[cand], n_all[cand], v_all[cand]
            pairs = np.unique(cf * G + cg)
            pf, pg = pairs // G, pairs % G
            pr = np.arange(R)
            ef = np.repeat(pf, R); eg = np.repeat(pg, R); er = np.tile(pr, len(pf))
            live = s_key[ef, eg, er] < 2**32
            ef, eg, er = ef[live], eg[live], er[live]
            f_c = np.r_[ef, cf]; g_c = np.r_[eg, cg]; k_c = np.r_[s_key[ef, eg, er], ck]
            src = np.r_[-1 - er, np.arange(len(cf))]
            order = np.lexsort((k_c, g_c, f_c))
            f_c, g_c, k_c, src = f_c[order], g_c[order], k_c[order], src[order]
            grp = f_c * G + g_c
            first = np.r_[0, np.nonzero(np.diff(grp))[0] + 1]
            rank = np.arange(len(grp)) - np.repeat(first, np.diff(np.r_[first, len(grp)]))
            keep = rank < R
            f_c, g_c, k_c, src, rank = f_c[keep], g_c[keep], k_c[keep], src[keep], rank[keep]
            old = src < 0
            nv = np.zeros(len(f_c), dtype=np.float32); nseq = np.zeros(len(f_c), dtype=np.int64)
            nids = np.zeros((len(f_c), W), dtype=U32); nw = np.zeros((len(f_c), W), dtype=np.float32)
            nv[old] = s_v[f_c[old], g_c[old], -1 - src[old]]; nseq[old] = s_seq[f_c[old], g_c[old], -1 - src[old]]
            nids[old] = s_ids[f_c[old], g_c[old], -1 - src[old]]; nw[old] = s_vals[f_c[old], g_c[old], -1 - src[old]]
            sn = src[~old]
            nv[~old], nseq[~old] = cv[sn], b0 + cn2[sn]
            nids[~old], nw[~old] = windows(cn2[sn], cf[sn], A, ids, b0)
            s_key[pf, pg] = 2**32
            s_key[f_c, g_c, rank], s_v[f_c, g_c, rank], s_seq[f_c, g_c, rank] = k_c, nv, nseq
            s_ids[f_c, g_c, rank], s_vals[f_c, g_c, rank] = nids, nw
        # Token sample: every activation of the hashed rows.
        in_sample = mix32(mix32(U32(a.seed ^ 0x5BD1E995)) ^ row.astype(U32)).astype(np.float64) < a.sample_p * 4294967296
        sample_f.append(f_all[in_sample])
        sample_v.append(v_all[in_sample])
        seconds += time.perf_counter() - t0
    nb = np.arange(NB)[None, :] + 1
    digest = {
        "fired": float(count.sum()),
        "sum": float(total.sum()),
        "histogram": float((hist * nb * (np.arange(S)[:, None] % 97 + 1)).sum()),
        "topValues": float(np.where(np.isfinite(top_v), top_v, 0).astype(np.float64).sum()),
        "topCount": int(top_n.sum()),
        "sampleKeys": float(np.where(s_key < 2**32, s_key, 0).sum()),
        "sampleNonZeros": int(sum(len(x) for x in sample_f)),
    }
    print(json.dumps({"seconds": seconds, "digest": digest, "torch": torch.__version__, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
