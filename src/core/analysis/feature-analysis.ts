/**
 * A finished feature analysis, opened for exploration: one feature's full report (statistics,
 * examples with token strings, labels), paging and search over features (label text, token, prompt),
 * and the per-feature tools that need the SAE (correlations, decoder neighbours) or the model too
 * (logit lens, ablation, steering, which features fire on a prompt), labels and favorites.
 */
import path from 'node:path';
import type { Catalog } from '../catalog/index.js';
import { MiStudioError } from '../errors.js';
import { readDatasetIndex } from '../datasets/dataset-files.js';
import { TokenStoreReader, type TokenIndex } from '../datasets/token-store.js';
import type { Model } from '../models/model.js';
import { loadSaeLens } from '../sae/saelens-format.js';
import type { SaeModel } from '../sae/sae-model.js';
import { ablateFeature, type AblationOptions, type AblationResult } from './ablation.js';
import { analysisDatasetDir, analysisTokenizerDir, FeaturesFile, SAE_SUBDIR, readManifestFile, type AnalysisManifest, type FeatureStats } from './analysis-files.js';
import { explainAndScore, type AutoLabelOutcome, type PromptExample } from './auto-label.js';
import { ChatClient, type ChatClientOptions } from './chat-client.js';
import { SampleCorrelations, decoderNeighbours, type CorrelationResult, type FeatureRelation } from './correlations.js';
import type { ExampleRecord } from './feature-accumulator.js';
import { FeatureTables, type FeatureAnalysisRecord, type FeatureQuery, type FeatureRow, type LabelRecord } from './feature-tables.js';
import { logitLens, type LogitLensOptions, type LogitLensResult } from './logit-lens.js';
import { featuresOnTokens, type PromptActivations } from './prompt-activations.js';
import { mix32 } from './sample-hash.js';
import { steerFeature, type SteeringOptions, type SteeringResult } from './steering.js';
import { TokenText } from './token-text.js';

/** An example with its tokens as text. */
export interface ExampleView extends ExampleRecord {
  tokens: string[];
  /** Index in `tokens` of the activating token. */
  peakIndex: number;
}

export interface FeatureReport {
  analysis: string;
  feature: number;
  model: string;
  hook: string;
  statistics: FeatureStats;
  topExamples: ExampleView[];
  intervals: { lower: number; upper: number; fired: number; examples: ExampleView[] }[];
  labels: LabelRecord[];
  /** The label shown (manual, else auto, else default). */
  label: string | null;
  favorite: boolean;
}

export interface AutoLabelOptions extends ChatClientOptions {
  /** Top examples in the explainer prompt (default 10). */
  explainExamples?: number;
  /** Held-out firing / non-firing examples for the detection score (default 6 each). */
  scoreExamples?: number;
}

export class FeatureAnalysis {
  readonly tables: FeatureTables;
  readonly files: FeaturesFile;
  readonly manifest: AnalysisManifest;
  readonly text: TokenText;
  private saeModel?: SaeModel;
  private correlationIndex?: SampleCorrelations;
  private vocabularyByText?: Map<string, number[]>;

  private constructor(readonly catalog: Catalog, readonly record: FeatureAnalysisRecord) {
    this.tables = new FeatureTables(catalog);
    this.manifest = readManifestFile(record.dir);
    this.files = new FeaturesFile(record.dir);
    this.text = TokenText.fromDir(analysisTokenizerDir(record.dir, this.manifest));
  }

  /** Opens a completed analysis by name. */
  static open(catalog: Catalog, name: string): FeatureAnalysis {
    const record = new FeatureTables(catalog).get(name);
    if (record.status !== 'completed') {
      throw new MiStudioError('INVALID_ARGUMENT', `analysis '${name}' is ${record.status} (${record.rowsDone} of ${record.rowsTotal} rows)`, { field: 'name', hint: 'resume it with resumeFeatureAnalysis first' });
    }
    return new FeatureAnalysis(catalog, record);
  }

  get name(): string {
    return this.record.name;
  }

  get hook(): string {
    return this.manifest.hook;
  }

  get dSae(): number {
    return this.manifest.dSae;
  }

  /** The SAE analysed (the copy stored with the analysis). */
  get sae(): SaeModel {
    this.saeModel ??= loadSaeLens(path.join(this.record.dir, SAE_SUBDIR)).model;
    return this.saeModel;
  }

  private view(e: ExampleRecord): ExampleView {
    return { ...e, tokens: this.text.all(e.tokenIds), peakIndex: e.token - e.windowStart };
  }

  feature(f: number): FeatureReport {
    const statistics = this.files.statistics(f);
    const labels = this.tables.labels(this.record.id, f);
    const row = this.tables.featureRow(this.record.id, f);
    return {
      analysis: this.name,
      feature: f,
      model: this.manifest.model,
      hook: this.hook,
      statistics,
      topExamples: this.files.topExamples(f).map((e) => this.view(e)),
      intervals: this.files.intervalExamples(f).map((g) => ({ ...g, examples: g.examples.map((e) => this.view(e)) })),
      labels,
      label: labels[0]?.label ?? null,
      favorite: row?.favorite ?? false,
    };
  }

  /** One page of features (sort, label text search, token filter, favorites). */
  page(query: FeatureQuery = {}): { total: number; rows: FeatureRow[] } {
    return this.tables.query(this.record.id, query);
  }

  /**
   * Token ids a text names: every vocabulary entry whose decoded text equals it, ignoring leading and
   * trailing whitespace (so "the" finds both "the" and " the").
   */
  tokenIdsFor(text: string): number[] {
    const key = text.trim();
    if (!key) return [];
    if (!this.vocabularyByText) {
      this.vocabularyByText = new Map();
      for (let id = 0; id < this.text.tokenizer.vocabSize; id++) {
        const k = this.text.of(id).trim();
        const list = this.vocabularyByText.get(k);
        if (list) list.push(id);
        else this.vocabularyByText.set(k, [id]);
      }
    }
    return [...(this.vocabularyByText.get(key) ?? [])];
  }

  /** Features whose top examples fire on the token(s) `text` names. */
  searchByToken(text: string, query: Omit<FeatureQuery, 'tokenIds'> = {}): { tokenIds: number[]; total: number; rows: FeatureRow[] } {
    const tokenIds = this.tokenIdsFor(text);
    if (tokenIds.length === 0) return { tokenIds, total: 0, rows: [] };
    return { tokenIds, ...this.tables.query(this.record.id, { ...query, tokenIds }) };
  }

  /** Which features fire on a text (tokenized with the dataset's tokenizer). */
  async featuresOnPrompt(model: Model, prompt: string | readonly number[], options: { top?: number } = {}): Promise<PromptActivations & { tokens: string[] }> {
    const ids = typeof prompt === 'string' ? this.text.tokenizer.encode(prompt) : [...prompt];
    const r = await featuresOnTokens(model, this.sae, this.hook, ids, { top: options.top, exclude: new Set(this.manifest.settings.excludeTokenIds) });
    return { ...r, tokens: this.text.all(r.tokenIds) };
  }

  correlations(f: number, top = 10): CorrelationResult {
    this.correlationIndex ??= new SampleCorrelations(this.files.tokenSample(), this.dSae);
    return this.correlationIndex.correlations(f, top);
  }

  decoderNeighbours(f: number, top = 10): FeatureRelation[] {
    return decoderNeighbours(this.sae, f, top);
  }

  async logitLens(model: Model, f: number, options: LogitLensOptions & { top?: number; bins?: number } = {}): Promise<LogitLensResult & { positiveTokens: string[]; negativeTokens: string[] }> {
    const [r] = await logitLens(model, this.sae, this.hook, [f], options);
    return { ...r, positiveTokens: r.positive.map((t) => this.text.of(t.tokenId)), negativeTokens: r.negative.map((t) => this.text.of(t.tokenId)) };
  }

  /**
   * Ablation on the dataset rows of the feature's top examples (distinct rows, strongest first, at
   * most `maxSequences`), or on given token sequences.
   */
  async ablate(model: Model, f: number, options: AblationOptions & { maxSequences?: number; sequences?: number[][] } = {}): Promise<AblationResult & { tokens: string[][]; promotedTokens: string[]; suppressedTokens: string[] }> {
    let sequences = options.sequences;
    if (!sequences) {
      const rows = [...new Set(this.files.topExamples(f).map((e) => e.row))].slice(0, options.maxSequences ?? 4);
      if (rows.length === 0) throw new MiStudioError('INVALID_ARGUMENT', `feature ${f} never fired in the analysed data; pass sequences to ablate on`, { field: 'feature' });
      sequences = this.readRows(rows);
    }
    const r = await ablateFeature(model, this.sae, this.hook, f, sequences, options);
    return { ...r, tokens: r.sequences.map((s) => this.text.all(s.tokenIds)), promotedTokens: r.promoted.map((t) => this.text.of(t.tokenId)), suppressedTokens: r.suppressed.map((t) => this.text.of(t.tokenId)) };
  }

  /** Token ids of dataset rows (padding dropped). */
  readRows(rows: readonly number[]): number[][] {
    const dir = analysisDatasetDir(this.manifest);
    const reader = new TokenStoreReader(dir, readDatasetIndex(dir) as TokenIndex);
    try {
      return rows.map((r) => {
        const [row] = reader.read(r, r + 1);
        if (!row) throw new MiStudioError('NOT_FOUND', `dataset row ${r} does not exist`, { field: 'rows' });
        return Array.from(row.ids.subarray(0, row.realTokens));
      });
    } finally {
      reader.close();
    }
  }

  async steer(model: Model, f: number, prompt: string | readonly number[], options: SteeringOptions = {}): Promise<SteeringResult> {
    return steerFeature(model, this.sae, this.hook, f, typeof prompt === 'string' ? this.text.tokenizer.encode(prompt) : prompt, options);
  }

  setLabel(f: number, label: string): void {
    this.files.statistics(f); // validates the feature index
    const text = label.trim();
    if (!text) throw new MiStudioError('INVALID_ARGUMENT', 'a label cannot be empty; use removeLabel to clear it', { field: 'label' });
    this.tables.setLabel(this.record.id, f, 'manual', text);
  }

  removeLabel(f: number, source: 'manual' | 'auto' | 'default' = 'manual'): void {
    this.tables.removeLabel(this.record.id, f, source);
  }

  setFavorite(f: number, favorite = true): void {
    this.tables.setFavorite(this.record.id, f, favorite);
  }

  /**
   * Windows of the token sample where feature f is zero on every token (negatives for label
   * scoring), `length` consecutive sampled tokens of one row each, chosen by a seeded hash.
   */
  negativeExamples(f: number, n: number, length = 16, seed = 0): (PromptExample & { row: number; windowStart: number })[] {
    const s = this.files.tokenSample();
    const windows: { key: number; start: number }[] = [];
    let runStart = 0;
    for (let t = 0; t <= s.rows.length; t++) {
      const breaks = t === s.rows.length || (t > runStart && (s.rows[t] !== s.rows[t - 1] || s.tokens[t] !== s.tokens[t - 1] + 1));
      if (!breaks) continue;
      for (let w = runStart; w + length <= t; w += length) {
        let fires = false;
        for (let u = w; u < w + length && !fires; u++) for (let i = s.offsets[u]; i < s.offsets[u + 1]; i++) if (s.features[i] === f) fires = true;
        if (!fires) windows.push({ key: mix32(seed ^ mix32(s.rows[w] * 65537 + s.tokens[w])), start: w });
      }
      runStart = t;
    }
    windows.sort((a, b) => a.key - b.key);
    return windows.slice(0, n).map(({ start }) => {
      const ids = Array.from(s.tokenIds.subarray(start, start + length));
      return { tokens: this.text.all(ids), values: ids.map(() => 0), row: s.rows[start], windowStart: s.tokens[start] };
    });
  }

  /** Auto-labels feature f with an LLM and stores the label and its detection score. */
  async autoLabel(f: number, options: AutoLabelOptions): Promise<AutoLabelOutcome> {
    const client = new ChatClient(options);
    const top = this.files.topExamples(f).map((e) => this.view(e));
    const nExplain = options.explainExamples ?? 10;
    const nScore = options.scoreExamples ?? 6;
    const explain = top.slice(0, nExplain);
    // Held-out positives: the remaining top examples, then interval examples from the other rows.
    const used = new Set(explain.map((e) => `${e.row}:${e.token}`));
    const heldOut = [...top.slice(nExplain), ...this.files.intervalExamples(f).flatMap((g) => g.examples.map((e) => this.view(e)))].filter((e) => {
      const k = `${e.row}:${e.token}`;
      if (used.has(k)) return false;
      used.add(k);
      return true;
    });
    const positives = heldOut.slice(0, nScore);
    const negatives = this.negativeExamples(f, nScore, this.files.W);
    const outcome = await explainAndScore(client, {
      explain: explain.map((e) => ({ tokens: e.tokens, values: e.values })),
      positives: positives.map((e) => ({ tokens: e.tokens, values: e.values })),
      negatives: negatives.map((e) => ({ tokens: e.tokens, values: e.values })),
      seed: f,
    });
    this.tables.setLabel(this.record.id, f, 'auto', outcome.label, outcome.score, outcome.detail);
    return outcome;
  }

  close(): void {
    this.files.close();
  }
}
