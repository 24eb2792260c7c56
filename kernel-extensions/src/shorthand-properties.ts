/**
 * tslab rewrites references to earlier cells' variables into `exports.name`, but not the name of a
 * shorthand property: `{ loss }` in a later cell fails with "loss is not defined". Writing every
 * shorthand property out in full (`{ loss: loss }`) before tslab converts the cell lets its rewrite
 * reach the value. The expansion never changes meaning: in object literals and in destructuring
 * assignments `{ x }` and `{ x: x }` are the same; shorthands with a default (`{ x = 1 } = o`) are
 * left alone.
 */
import type * as TS from 'typescript';

export function expandShorthandProperties(ts: typeof TS, source: string): string {
  const file = ts.createSourceFile('cell.ts', source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const insertAt: Array<{ pos: number; text: string }> = [];
  const visit = (node: TS.Node): void => {
    if (ts.isShorthandPropertyAssignment(node) && !node.objectAssignmentInitializer) {
      insertAt.push({ pos: node.name.getEnd(), text: `: ${node.name.text}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = source;
  for (const { pos, text } of insertAt.sort((a, b) => b.pos - a.pos)) out = out.slice(0, pos) + text + out.slice(pos);
  return out;
}
