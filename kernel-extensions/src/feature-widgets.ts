/**
 * Notebook glue between `@mistudio/core` feature analyses and the feature widgets:
 *
 *   const analysis = FeatureAnalysis.open(catalog, 'smollm2-l3');
 *   await showFeature(analysis, 123, { model });        // <ms-feature-card>, favorite/label actions handled
 *   await featureBrowser(analysis, { model });          // <ms-feature-browser>: search / page / open through comm
 *   await showLogitLens(analysis, model, 123); showCorrelations(analysis, 123); await showAblation(analysis, model, 123);
 *
 * Only types come from core (the caller hands in the opened analysis and model), so this module
 * loads no engine code of its own. The props builders and FeatureBrowserController are plain
 * functions of the analysis, usable (and tested) without a kernel.
 */
import type { AblationResult, CorrelationResult, FeatureAnalysis, FeatureReport, FeatureRelation, FeatureRow, LogitLensResult } from '@mistudio/core/analysis/index';
import type { Model } from '@mistudio/core/models/index';
import type {
  AblationProps,
  CorrelationsProps,
  FeatureBrowserProps,
  FeatureBrowserRow,
  FeatureBrowserSort,
  FeatureCardProps,
  FeatureExample,
  FeaturePagePayload,
  FeatureSearchBy,
  FeatureSearchPayload,
  LogitLensProps,
  RelatedFeature,
} from '@mistudio/widgets/feature-types';
import { getRuntime } from './runtime-registry.js';
import type { WidgetHandle } from './types.js';

function widget(tag: string, props: Record<string, unknown>): WidgetHandle {
  return getRuntime().widget(tag, props, {});
}

type LensWithTokens = LogitLensResult & { positiveTokens: string[]; negativeTokens: string[] };

function example(e: FeatureReport['topExamples'][number]): FeatureExample {
  return { tokens: e.tokens, values: e.values, tokenIds: e.tokenIds, peakIndex: e.peakIndex, value: e.value, row: e.row, token: e.token };
}

/** `<ms-feature-card>` props of feature f (with a logit-lens summary when a model is given). */
export async function featureCardProps(analysis: FeatureAnalysis, f: number, options: { model?: Model; lensTokens?: number } = {}): Promise<FeatureCardProps> {
  const r = analysis.feature(f);
  const s = r.statistics;
  const row = analysis.tables.featureRow(analysis.record.id, f);
  const props: FeatureCardProps = {
    feature: f,
    analysis: analysis.name,
    hook: analysis.hook,
    label: row?.label ?? null,
    labelSource: row?.labelSource ?? null,
    score: row?.score ?? null,
    favorite: r.favorite,
    density: s.density,
    fired: s.fired,
    tokens: s.tokens,
    meanActive: s.meanActive,
    max: s.max,
    histogram: s.fired > 0 ? { lower: 0, binWidth: s.histogram.binWidth, counts: s.histogram.counts } : undefined,
    topExamples: r.topExamples.map(example),
    intervals: r.intervals.map((g) => ({ lower: g.lower, upper: g.upper, fired: g.fired, examples: g.examples.map(example) })),
  };
  if (options.model) {
    try {
      const lens = await analysis.logitLens(options.model, f, { top: options.lensTokens ?? 6 });
      props.logitLens = { positive: lensTokens(lens, 'positive'), negative: lensTokens(lens, 'negative') };
    } catch {
      // SAEs outside the residual stream have no logit lens; the card shows the rest.
    }
  }
  return props;
}

function lensTokens(lens: LensWithTokens, side: 'positive' | 'negative') {
  const names = side === 'positive' ? lens.positiveTokens : lens.negativeTokens;
  return lens[side].map((t, i) => ({ token: names[i], tokenId: t.tokenId, value: t.value }));
}

export function logitLensProps(lens: LensWithTokens): LogitLensProps {
  return {
    feature: lens.feature,
    positive: lensTokens(lens, 'positive'),
    negative: lensTokens(lens, 'negative'),
    histogram: { lower: lens.histogram.min, binWidth: lens.histogram.binWidth, counts: lens.histogram.counts },
    convention: lens.convention,
  };
}

function labelled(analysis: FeatureAnalysis, items: readonly FeatureRelation[]): RelatedFeature[] {
  return items.map((x) => ({ feature: x.feature, value: x.value, label: analysis.tables.featureRow(analysis.record.id, x.feature)?.label ?? null }));
}

export function correlationsProps(analysis: FeatureAnalysis, f: number, top = 8): CorrelationsProps {
  const c: CorrelationResult = analysis.correlations(f, top);
  return { feature: f, sampleTokens: c.sampleTokens, positive: labelled(analysis, c.positive), negative: labelled(analysis, c.negative), neighbours: labelled(analysis, analysis.decoderNeighbours(f, top)) };
}

export function ablationProps(r: AblationResult & { tokens: string[][]; promotedTokens: string[]; suppressedTokens: string[] }): AblationProps {
  const tokenList = (items: AblationResult['promoted'], names: string[]) => items.map((t, i) => ({ token: names[i], tokenId: t.tokenId, value: t.value }));
  return {
    feature: r.feature,
    hook: r.hook,
    meanCeClean: r.meanCeClean,
    meanCeAblated: r.meanCeAblated,
    deltaCe: r.deltaCe,
    perplexityClean: r.perplexityClean,
    perplexityAblated: r.perplexityAblated,
    positionsAblated: r.positionsAblated,
    sequences: r.sequences.map((s, i) => ({ tokens: r.tokens[i], activations: s.activations, lossDelta: [...s.ceAblated.map((c, t) => c - s.ceClean[t]), 0] })),
    promoted: tokenList(r.promoted, r.promotedTokens),
    suppressed: tokenList(r.suppressed, r.suppressedTokens),
  };
}

function browserRow(r: FeatureRow): FeatureBrowserRow {
  return { feature: r.feature, label: r.label, labelSource: r.labelSource, density: r.density, max: r.max, meanActive: r.meanActive, score: r.score, favorite: r.favorite };
}

/**
 * The state behind `<ms-feature-browser>`: answers its actions with whole new props (the element
 * holds only one page). Prompt search needs the model; the card's logit lens too.
 */
export class FeatureBrowserController {
  private state: Omit<FeatureBrowserProps, 'rows' | 'total'> & { rows: FeatureBrowserRow[]; total: number };

  constructor(readonly analysis: FeatureAnalysis, private readonly options: { model?: Model; limit?: number } = {}) {
    this.state = { analysis: analysis.name, total: 0, offset: 0, limit: options.limit ?? 20, rows: [], query: '', searchBy: 'label', sort: 'feature', descending: false, favoritesOnly: false, selected: null, card: null };
  }

  /** Props of the current state (the first page at start). */
  async props(): Promise<FeatureBrowserProps> {
    await this.refresh();
    return { ...this.state };
  }

  async handle(action: string, payload: unknown): Promise<FeatureBrowserProps> {
    const p = (payload ?? {}) as Record<string, unknown>;
    this.state.message = undefined;
    try {
      switch (action) {
        case 'search': {
          const s = p as unknown as FeatureSearchPayload;
          this.state.query = String(s.query ?? '');
          this.state.searchBy = (['label', 'token', 'prompt'].includes(s.by) ? s.by : 'label') as FeatureSearchBy;
          this.state.offset = 0;
          break;
        }
        case 'page': {
          const s = p as unknown as Partial<FeaturePagePayload>;
          if (typeof s.offset === 'number') this.state.offset = Math.max(0, Math.floor(s.offset));
          if (typeof s.sort === 'string') this.state.sort = s.sort as FeatureBrowserSort;
          if (typeof s.descending === 'boolean') this.state.descending = s.descending;
          if (typeof s.favoritesOnly === 'boolean') this.state.favoritesOnly = s.favoritesOnly;
          break;
        }
        case 'open':
          this.state.selected = Number(p.feature);
          this.state.card = await featureCardProps(this.analysis, Number(p.feature), { model: this.options.model });
          return { ...this.state };
        case 'favorite':
          this.analysis.setFavorite(Number(p.feature), Boolean(p.favorite));
          break;
        case 'label':
          this.analysis.setLabel(Number(p.feature), String(p.label ?? ''));
          break;
        default:
          return { ...this.state };
      }
      await this.refresh();
      if (this.state.selected !== null && this.state.selected !== undefined && (action === 'favorite' || action === 'label')) {
        this.state.card = await featureCardProps(this.analysis, this.state.selected, { model: this.options.model });
      }
    } catch (err) {
      this.state.message = err instanceof Error ? err.message : String(err);
    }
    return { ...this.state };
  }

  private async refresh(): Promise<void> {
    const s = this.state;
    const base = { sort: s.sort, descending: s.descending, favoritesOnly: s.favoritesOnly, offset: s.offset, limit: s.limit };
    s.promptTokens = undefined;
    if (s.query && s.searchBy === 'prompt') {
      if (!this.options.model) throw new Error('searching by prompt needs the model: featureBrowser(analysis, { model })');
      const r = await this.analysis.featuresOnPrompt(this.options.model, s.query, { top: s.limit });
      s.promptTokens = r.tokens;
      s.rows = r.features.map((x) => ({ ...browserRow(this.analysis.tables.featureRow(this.analysis.record.id, x.feature)!), promptMax: x.max }));
      s.total = r.features.length;
      s.offset = 0;
      return;
    }
    const page = s.query && s.searchBy === 'token' ? this.analysis.searchByToken(s.query, base) : this.analysis.page({ ...base, ...(s.query ? { text: s.query } : {}) });
    s.rows = page.rows.map(browserRow);
    s.total = page.total;
  }
}

/** Shows feature f as `<ms-feature-card>`; starring and label edits are stored and shown. */
export async function showFeature(analysis: FeatureAnalysis, f: number, options: { model?: Model } = {}): Promise<WidgetHandle> {
  const w = widget('ms-feature-card', { ...(await featureCardProps(analysis, f, options)) });
  w.on('favorite', async (payload) => {
    const p = payload as { favorite: boolean };
    analysis.setFavorite(f, Boolean(p.favorite));
    w.set({ ...(await featureCardProps(analysis, f, options)) });
  });
  w.on('label', async (payload) => {
    analysis.setLabel(f, String((payload as { label: string }).label));
    w.set({ ...(await featureCardProps(analysis, f, options)) });
  });
  return w;
}

/** `<ms-feature-browser>` over an analysis: search, sort, page and open features through the comm. */
export async function featureBrowser(analysis: FeatureAnalysis, options: { model?: Model; limit?: number } = {}): Promise<WidgetHandle> {
  const controller = new FeatureBrowserController(analysis, options);
  const w = widget('ms-feature-browser', { ...(await controller.props()) });
  for (const action of ['search', 'page', 'open', 'favorite', 'label']) {
    w.on(action, async (payload) => w.set({ ...(await controller.handle(action, payload)) }));
  }
  return w;
}

export async function showLogitLens(analysis: FeatureAnalysis, model: Model, f: number): Promise<WidgetHandle> {
  return widget('ms-logit-lens', { ...logitLensProps(await analysis.logitLens(model, f)) });
}

export function showCorrelations(analysis: FeatureAnalysis, f: number): WidgetHandle {
  return widget('ms-correlations', { ...correlationsProps(analysis, f) });
}

export async function showAblation(analysis: FeatureAnalysis, model: Model, f: number): Promise<WidgetHandle> {
  return widget('ms-ablation', { ...ablationProps(await analysis.ablate(model, f)) });
}
