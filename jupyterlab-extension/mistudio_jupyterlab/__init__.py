"""miStudio for JupyterLab: ships the prebuilt labextension (widget views, MIME renderer, panels).

The extension files are installed as shared data into share/jupyter/labextensions/; this module
only tells development tools where the built extension lives.
"""

__version__ = "0.1.0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@mistudio/jupyterlab-extension"}]
