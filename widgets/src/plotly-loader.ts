/**
 * plotly.js is ~4.6 MB, so it is loaded on first use (`await import`), which bundlers turn into a
 * separate chunk: notebooks without charts never download it. Only the calls we use are typed.
 */
export interface PlotlyTrace {
  x: number[];
  y: number[];
  type: 'scatter';
  mode: 'lines';
  name?: string;
  line?: { color: string; width: number };
  hovertemplate?: string;
}

export interface PlotlyApi {
  newPlot(el: HTMLElement, data: PlotlyTrace[], layout: object, config: object): Promise<unknown>;
  react(el: HTMLElement, data: PlotlyTrace[], layout: object, config: object): Promise<unknown>;
  extendTraces(el: HTMLElement, update: { x: number[][]; y: number[][] }, indices: number[]): Promise<unknown>;
  toImage(el: HTMLElement, options: { format: 'png'; width: number; height: number; scale?: number }): Promise<string>;
  purge(el: HTMLElement): void;
  Plots: { resize(el: HTMLElement): Promise<unknown> | void };
}

let loading: Promise<PlotlyApi> | undefined;

export function loadPlotly(): Promise<PlotlyApi> {
  loading ??= import('plotly.js-dist-min').then((mod: unknown) => {
    // The package is a UMD bundle: bundlers expose module.exports as `default`.
    const m = mod as { default?: PlotlyApi } & Partial<PlotlyApi>;
    return (m.default && typeof m.default.newPlot === 'function' ? m.default : m) as PlotlyApi;
  });
  return loading;
}
