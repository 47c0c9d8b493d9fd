#!/usr/bin/env bash
# GPU readiness check, one script (<= 9 minutes on one GPU):
#   1. the tests marked `gpu` (data on the GPU, fused Adam, channels-last, bf16, compile with
#      CUDA graphs, pinned memory);
#   2. bench_train regimes on CUDA: fp32 vs bf16, eager vs compiled, against the hand loop;
#   3. the exact kNN of the intrinsic-dimension estimators at N = 200,000 (and TwoNN / MLE).
# Prints one results table at the end (also written to $OUT/device_check.md when OUT is set).
# Exits 1 when any section failed or timed out (the table says which), 0 when all passed.
#
#   scripts/device_check.sh                 # on a machine with a GPU
#   scripts/device_check.sh --device cpu    # dry run of the same steps at tiny sizes (no GPU)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python
DEVICE=cuda
[ "${1:-}" = "--device" ] && DEVICE=${2:?--device cpu|cuda}
if [ "$DEVICE" = cuda ]; then
  SUBSET=(); EPOCHS=(--epochs 3); ROUNDS=2; N=200000
  LEVERS=(eager default bf16 compiled bf16_compiled)
  # seconds per step, 9 minutes in all at most: the compiled conv variants need more than 130 s
  # (conv_vae_mnist timed out at 130 s on an H200, 2026-12-04)
  T_TESTS=150; T_BENCH_mlp_vae_mnist=110; T_BENCH_conv_vae_mnist=200; T_ID=60
  "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: run with --device cpu for a dry run')"
else
  # dry run: tiny sizes, no compiled variants (a cold CPU compile takes about a minute)
  SUBSET=(--subset 300); EPOCHS=(--epochs 1); ROUNDS=1; N=5000
  LEVERS=(eager default bf16)
  T_TESTS=300; T_BENCH_mlp_vae_mnist=400; T_BENCH_conv_vae_mnist=400; T_ID=200
fi
LOG=$(mktemp -d)
FAILED=()   # names of the sections that failed: the exit code
TABLE="$LOG/table.md"
start=$(date +%s)
{
  echo "# device check ($DEVICE): $(date -u +%FT%TZ)"
  "$PY" -c "import torch; print('torch', torch.__version__, '|', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')"
  [ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  echo
} >"$TABLE"

echo "== 1. pytest -m gpu"
if timeout "$T_TESTS" "$PY" -m pytest -q -m gpu tests -p no:cacheprovider >"$LOG/pytest.txt" 2>&1; then status=passed; else status="FAILED (rc $?)"; FAILED+=("1. pytest -m gpu"); fi
tail -3 "$LOG/pytest.txt"
{ echo "## 1. tests marked gpu: $status"; echo; echo '```'; tail -2 "$LOG/pytest.txt"; echo '```'; echo; } >>"$TABLE"

echo "== 2. bench_train on $DEVICE"
echo "## 2. training: autoenc variants vs the eager hand loop (ratio < 1 = faster)" >>"$TABLE"
for regime in mlp_vae_mnist conv_vae_mnist; do
  budget="T_BENCH_$regime"
  if timeout "${!budget}" "$PY" scripts/bench_train.py --regime "$regime" --device "$DEVICE" --rounds "$ROUNDS" \
      "${EPOCHS[@]}" "${SUBSET[@]}" --threads "$(nproc)" \
      --levers "${LEVERS[@]}" >"$LOG/$regime.txt" 2>&1; then
    { echo; echo "### $regime"; grep -E '^(machine|regime|\|)' "$LOG/$regime.txt"; } >>"$TABLE"
  else
    FAILED+=("2. bench_train $regime")
    { echo; echo "### $regime: FAILED or timed out"; echo '```'; tail -5 "$LOG/$regime.txt"; echo '```'; } >>"$TABLE"
  fi
done

echo "== 3. intrinsic-dimension kNN at N = $N on $DEVICE"
timeout "$T_ID" "$PY" - "$N" "$DEVICE" >"$LOG/id.txt" 2>&1 <<'EOF' || { echo "ID step FAILED or timed out (see below)" >>"$LOG/id.txt"; FAILED+=("3. intrinsic-dimension kNN"); }
import sys, time
import numpy as np, torch
from autoenc.measure.intrinsic_dim import estimate_all, knn
n, device = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
t = np.pi * rng.random((n, 8))
rot, _ = np.linalg.qr(rng.standard_normal((32, 16)))
x = np.concatenate([np.cos(t), np.sin(t)], axis=1) @ rot.T  # curved 8-D manifold in R^32
def sync():
    if device == "cuda":
        torch.cuda.synchronize()
print("| step | N | seconds | result |")
print("| --- | ---: | ---: | --- |")
sync(); s = time.perf_counter(); nb = knn(x, 20, device=device); sync()
print(f"| kNN k=20 (exact, float64 re-ranked) | {n} | {time.perf_counter() - s:.2f} | mean 20th distance {float(np.mean(nb.distances[:, -1])):.4f} |")
s = time.perf_counter(); res = estimate_all(x, ["twonn", "mle"], repeats=0, device=device)
print(f"| TwoNN + MLE (true ID 8) | {n} | {time.perf_counter() - s:.2f} | " + ", ".join(f"{r.estimator} {r.value:.2f}" for r in res) + " |")
EOF
{ echo; echo "## 3. intrinsic-dimension kNN"; echo; cat "$LOG/id.txt"; echo; } >>"$TABLE"
echo "total: $(( $(date +%s) - start )) s" >>"$TABLE"
if [ ${#FAILED[@]} -gt 0 ]; then
  { echo; echo "FAILED sections: ${FAILED[*]}"; } >>"$TABLE"
else
  { echo; echo "all sections passed"; } >>"$TABLE"
fi

echo
cat "$TABLE"
if [ -n "${OUT:-}" ]; then cp "$TABLE" "$OUT/device_check.md"; cp "$LOG"/*.txt "$OUT/" 2>/dev/null || true; fi
[ ${#FAILED[@]} -eq 0 ]
