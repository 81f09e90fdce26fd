# The Taxonomist GitHub App: `taxonomist bot serve` (webhook + in-process worker) by default,
# or `taxonomist bot worker` for scale-out workers on a shared Redis queue.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="" \
    TAXONOMIST_DATA_DIR=/data

# git only for `taxonomist bot dry-run` on a local checkout; the service itself never checks out.
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY constraints.txt pyproject.toml README.md ./
# torch pinned by constraints.txt, from the CPU wheel index: PyPI's default build pulls several GB of CUDA.
RUN pip install -c constraints.txt --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
COPY checks ./checks
COPY bot ./bot
COPY pipeline ./pipeline
COPY taxonomist ./taxonomist
RUN pip install -c constraints.txt ".[bot]"

RUN useradd --system --home /data taxonomist && mkdir -p /data && chown taxonomist /data
USER taxonomist
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"
ENTRYPOINT ["taxonomist", "bot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
