#!/usr/bin/env python3
"""Executes one notebook top to bottom on the `mistudio` kernel with nbclient, as
`jupyter nbconvert --execute` would, for tests/notebooks/notebooks.slow.test.ts.

    execute_notebook.py <notebook.ipynb> <executed.ipynb> --workdir DIR [--cell-timeout S]

The kernel starts in DIR (its environment is this process's: the test sets MISTUDIO_WORKSPACE).
Cells run one by one so that a failure names its cell; the executed notebook (outputs, display
updates applied, widget state in metadata.widgets) is written even when a cell fails. Prints one
JSON object: {"ok", "seconds", "cellSeconds": [[index, seconds]...], "failed": {index, sourceHead,
ename, evalue, traceback} | null}; the vitest test makes the assertions.
"""
import argparse
import json
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("executed")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--cell-timeout", type=int, default=600)
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(nb, kernel_name="mistudio", timeout=args.cell_timeout,
                            resources={"metadata": {"path": args.workdir}})
    cell_seconds = []
    failed = None
    started = time.time()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t0 = time.time()
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError) as err:
                error = next((o for o in cell.outputs if o.output_type == "error"), None)
                failed = {
                    "index": index,
                    "sourceHead": cell.source.strip().splitlines()[0][:120] if cell.source.strip() else "",
                    "ename": error.ename if error else type(err).__name__,
                    "evalue": error.evalue if error else str(err)[:2000],
                    "traceback": "\n".join(error.traceback)[-4000:] if error else "",
                    "stderr": "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")[-4000:],
                }
                break
            finally:
                cell_seconds.append([index, round(time.time() - t0, 2)])
        client.set_widgets_metadata()
    nbformat.write(nb, args.executed)
    json.dump({"ok": failed is None, "seconds": round(time.time() - started, 1), "cellSeconds": cell_seconds, "failed": failed},
              sys.stdout)


if __name__ == "__main__":
    main()
