"""CoopGraph's surfaces: the HTTP API, the dashboard and the ``coopgraph`` CLI."""
