// Merged by @jupyter/builder into the labextension's webpack config (package.json jupyterlab.webpackConfig):
// the example notebooks (../notebooks/*.ipynb) are bundled as text, the templates of the launcher cards.
module.exports = {
  module: {
    rules: [{ test: /\.ipynb$/, type: 'asset/source' }],
  },
};
