# Sleuth service image: multi-stage, non-root; `sleuth` is the entrypoint, `serve` the default command.
#   docker build -t sleuth .
#   docker run --rm -v sleuth-data:/data sleuth keys create admin      # binding 0.0.0.0 needs a key
#   docker run -p 8000:8000 -v sleuth-data:/data -e SLEUTH_LLM_BASE_URL=http://host:8000/v1 sleuth
# The image holds no LLM and no dev/local extras: the model is served elsewhere (vLLM, see docker-compose.yml).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
# torch==2.13.0 from PyPI is the CUDA build (GBs of NVIDIA libraries); the API embeds on CPU, so the CPU wheel is
# installed first and satisfies the pin (2.13.0+cpu matches ==2.13.0).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/sleuth \
 && /opt/sleuth/bin/pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0
WORKDIR /src
# Dependencies first (their layer survives code changes), then the package itself without touching them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && /opt/sleuth/bin/pip install -r /tmp/requirements.txt \
 && /opt/sleuth/bin/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__; assert not torch.version.cuda, 'CUDA torch in the image'"
COPY corpus corpus
COPY retrieval retrieval
COPY tools tools
COPY agent agent
COPY embedded embedded
COPY api api
COPY web web
COPY evals evals
RUN /opt/sleuth/bin/pip install --no-deps . \
 && /opt/sleuth/bin/sleuth --help >/dev/null \
 && /opt/sleuth/bin/rg --version >/dev/null

FROM ${PYTHON_IMAGE}
# Pango and a font for PDF exports (WeasyPrint); the slim image has neither.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --user-group sleuth \
 && mkdir -p /data && chown sleuth:sleuth /data
COPY --from=build /opt/sleuth /opt/sleuth
ENV PATH=/opt/sleuth/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SLEUTH_DATA_DIR=/data \
    SLEUTH_API_PORT=8000
USER sleuth
WORKDIR /home/sleuth
VOLUME ["/data"]
EXPOSE 8000
# Ready = database, search index and model endpoint all answer (/readyz is 503 otherwise; probes need no API key).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('SLEUTH_API_PORT', '8000'), timeout=8)"]
ENTRYPOINT ["sleuth"]
# The port comes from SLEUTH_API_PORT (the healthcheck reads it too).
CMD ["serve", "--host", "0.0.0.0"]
