# CoopGraph's image, built from the wheel: the image holds the installed package and its
# dependencies, no source tree, no build tools, and runs as a non-root user.
#   docker build -t coopgraph .      (docker-compose.yml builds it the same way)

# 1. build the wheel (sdist first, the wheel from it — as a release does)
FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir "build>=1.2"
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY coopgraph ./coopgraph
COPY graph ./graph
COPY ingest ./ingest
COPY queries ./queries
COPY api ./api
COPY data ./data
RUN python -m build --outdir /dist .

# 2. install the wheel into a virtual environment of its own; the runtime needs neither
#    pip nor setuptools in it, nor the dependencies' own test suites (58 MB, scipy's most)
FROM python:3.11-slim AS install
COPY --from=build /dist/*.whl /tmp/
RUN python -m venv /opt/coopgraph \
 && /opt/coopgraph/bin/pip install --no-cache-dir /tmp/*.whl \
 && find /opt/coopgraph/lib -type d -name tests -prune -exec rm -rf {} + \
 && /opt/coopgraph/bin/pip uninstall -y -q pip setuptools

# 3. the runtime: the venv and a user, nothing else
FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /var/lib/coopgraph --uid 10001 coopgraph
COPY --from=install /opt/coopgraph /opt/coopgraph
ENV PATH=/opt/coopgraph/bin:$PATH \
    COOPGRAPH_DATA_DIR=/var/lib/coopgraph
USER coopgraph
WORKDIR /var/lib/coopgraph
EXPOSE 8000
CMD ["coopgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
