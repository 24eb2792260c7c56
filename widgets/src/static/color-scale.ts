/**
 * The activation colour scale: white at zero, through light orange to deep red at the maximum
 * (ColorBrewer OrRd, readable and colour-blind safe); negative values go through light blue to dark
 * blue. Text switches to white on dark backgrounds so every token stays legible.
 */
type Rgb = readonly [number, number, number];

export const POSITIVE_STOPS: readonly Rgb[] = [
  [255, 255, 255],
  [253, 212, 158],
  [252, 141, 89],
  [215, 48, 31],
];
export const NEGATIVE_STOPS: readonly Rgb[] = [
  [255, 255, 255],
  [209, 229, 240],
  [103, 169, 207],
  [33, 102, 172],
];

export interface TokenColors {
  background: string;
  foreground: string;
  /** Position on the scale in [0, 1] (|value| / maxAbs, clamped). */
  intensity: number;
}

export function activationColor(value: number, maxAbs: number): TokenColors {
  const safeMax = maxAbs > 0 && Number.isFinite(maxAbs) ? maxAbs : 1;
  const v = Number.isFinite(value) ? value : 0;
  const t = Math.min(1, Math.abs(v) / safeMax);
  const [r, g, b] = interpolate(v < 0 ? NEGATIVE_STOPS : POSITIVE_STOPS, t);
  return { background: `rgb(${r}, ${g}, ${b})`, foreground: t > 0.72 ? '#ffffff' : '#1a1a1a', intensity: t };
}

function interpolate(stops: readonly Rgb[], t: number): Rgb {
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as unknown as Rgb;
}

/** CSS linear-gradient of the positive scale, for legends. */
export function positiveGradientCss(): string {
  const parts = POSITIVE_STOPS.map(([r, g, b], i) => `rgb(${r}, ${g}, ${b}) ${Math.round((i / (POSITIVE_STOPS.length - 1)) * 100)}%`);
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/** Largest |value| of a series (0 when empty or all non-finite). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (Number.isFinite(a) && a > m) m = a;
  }
  return m;
}
