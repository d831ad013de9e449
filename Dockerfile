# Sleuth service image: multi-stage, non-root.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY corpus corpus
COPY retrieval retrieval
COPY tools tools
COPY agent agent
COPY api api
COPY web web
COPY evals evals
RUN python -m venv /opt/sleuth && /opt/sleuth/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 sleuth
COPY --from=build /opt/sleuth /opt/sleuth
ENV PATH=/opt/sleuth/bin:$PATH SLEUTH_DATA_DIR=/data
RUN mkdir -p /data && chown sleuth /data
USER sleuth
WORKDIR /home/sleuth
VOLUME ["/data"]
ENTRYPOINT ["sleuth"]
CMD ["docs"]
