FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY ingest ./ingest
COPY queries ./queries
COPY api ./api
COPY data ./data
RUN pip install --no-cache-dir .
ENV COOPGRAPH_DATA_DIR=/var/lib/coopgraph
EXPOSE 8000
CMD ["coopgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
