/**
 * The example notebooks of the repository's notebooks/ folder, bundled as text (see
 * webpack.config.cjs), so "New from template" works whatever folder JupyterLab serves.
 */
import quickstart from '../../notebooks/01-quickstart.ipynb';
import modelsAndHooks from '../../notebooks/02-models-and-hooks.ipynb';
import datasets from '../../notebooks/03-datasets.ipynb';
import trainingSaes from '../../notebooks/04-training-saes.ipynb';
import featureAnalysis from '../../notebooks/05-feature-analysis.ipynb';
import pretrainedSaes from '../../notebooks/06-pretrained-saes.ipynb';
import type { NotebookTemplate } from './notebook-templates.js';

export const EXAMPLE_NOTEBOOKS: readonly NotebookTemplate[] = [
  { id: '01-quickstart', label: 'Quickstart', source: quickstart },
  { id: '02-models-and-hooks', label: 'Models and hooks', source: modelsAndHooks },
  { id: '03-datasets', label: 'Datasets', source: datasets },
  { id: '04-training-saes', label: 'Training SAEs', source: trainingSaes },
  { id: '05-feature-analysis', label: 'Feature analysis', source: featureAnalysis },
  { id: '06-pretrained-saes', label: 'Pretrained SAEs', source: pretrainedSaes },
];
