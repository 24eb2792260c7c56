"""Reference f32 -> f16 rounding from numpy, for src/core/test/float16.test.ts.

Writes src/core/test/fixtures/float16.bin: 8192 little-endian float32 inputs followed by numpy's
8192 float16 bit patterns for them. Inputs cover normals, subnormals, exact ties, overflow and
specials, so round-to-nearest-even and the subnormal path are both exercised.
"""
import pathlib
import numpy as np

rng = np.random.default_rng(1234)
n = 8192
parts = [
    rng.standard_normal(2048).astype(np.float32) * np.float32(10.0) ** rng.integers(-8, 6, 2048).astype(np.float32),
    # exact midpoints between adjacent halves (ties) and their neighbours
    ((np.arange(1024, dtype=np.float32) + np.float32(0.5)) * np.float32(2.0 ** -10) + np.float32(1.0)),
    # the subnormal range of float16
    (rng.random(1024).astype(np.float32) * np.float32(2.0 ** -14)) * np.where(rng.random(1024) < 0.5, -1, 1).astype(np.float32),
    np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504.0, 65519.99, 65520.0, 1e9, -1e9, 2.0 ** -24, 2.0 ** -25, 2.0 ** -26, 5.96e-8], dtype=np.float32),
]
x = np.concatenate(parts).astype(np.float32)
x = np.concatenate([x, rng.uniform(-70000, 70000, n - len(x)).astype(np.float32)])
assert len(x) == n
h = x.astype(np.float16).view(np.uint16)
out = pathlib.Path(__file__).resolve().parents[2] / 'src/core/test/fixtures/float16.bin'
out.parent.mkdir(parents=True, exist_ok=True)
out.write_bytes(x.tobytes() + h.tobytes())
print(f'wrote {out} ({n} values)')
