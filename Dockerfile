# patentrnn's page for many visitors: `patentrnn serve` (Voilà), one kernel per visitor.
# Serving dependencies only (`pip install .`: numpy, ipywidgets, Voilà; no TensorFlow), the
# corpora fetched and hash-checked at build time (pooch, as the library fetches them), and a
# user without privileges.
#
#   docker build -t patentrnn .
#   docker run --rm -p 8866:8866 -e PATENTRNN_MAX_SESSIONS=40 patentrnn
#
# Every option of `patentrnn serve` reads an environment variable: PATENTRNN_HOST, PATENTRNN_PORT,
# PATENTRNN_BASE_URL, PATENTRNN_MAX_SESSIONS, PATENTRNN_POOL_SIZE, PATENTRNN_CULL_IDLE_TIMEOUT,
# PATENTRNN_CULL_INTERVAL. The default session limit is sized from the container's memory limit.
# The wheel is built where Node.js is (the page's front end: npm ci and esbuild, by the build hook);
# the image that serves carries neither Node.js nor node_modules.
FROM python:3.11-slim AS wheel
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md /tmp/src/
COPY patentrnn/ /tmp/src/patentrnn/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /tmp/wheels /tmp/src

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATENTRNN_HOST=0.0.0.0 \
    PATENTRNN_PORT=8866 \
    PATENTRNN_BASE_URL=/ \
    PATENTRNN_MODELS=/app/models

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin patentrnn

COPY --from=wheel /tmp/wheels /tmp/wheels
RUN pip install --no-cache-dir /tmp/wheels/*.whl && rm -rf /tmp/wheels

WORKDIR /app

COPY voila.json ./
COPY notebooks/app.ipynb notebooks/
COPY models/ models/

USER 10001
# A mirror of the corpora, if the public origin is out of reach (the sha256 must still match).
ARG PATENTRNN_DATA_URL=""
# The corpora, then every bundle's originality index (built from them), and the page's static files
# compressed (brotli 11, gzip 9), so that neither the server's start nor a visitor waits on them.
RUN python -c "from patentrnn.serve import build_originality_indexes as indexes, fetch_corpora, precompress_static; \
print('corpora in', fetch_corpora()); print(*indexes(), sep='\n'); print(precompress_static())"

EXPOSE 8866
# A static file: answering it starts no kernel (`/` renders the notebook and would).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s%svoila/static/health.txt' % (os.environ['PATENTRNN_PORT'], os.environ['PATENTRNN_BASE_URL']), timeout=4)"]
CMD ["patentrnn", "serve"]
