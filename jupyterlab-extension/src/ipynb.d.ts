/** Notebook files imported by the labextension bundle arrive as their JSON text (webpack.config.cjs: asset/source). */
declare module '*.ipynb' {
  const source: string;
  export default source;
}
