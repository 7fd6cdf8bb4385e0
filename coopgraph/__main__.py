"""``python -m coopgraph``: the same command line as ``coopgraph``."""

from coopgraph.api.cli import app

if __name__ == "__main__":  # pragma: no branch
    app(prog_name="coopgraph")
