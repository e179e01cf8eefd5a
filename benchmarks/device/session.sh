#!/usr/bin/env bash
# One prepared run on a lent GPU machine (under 10 minutes; give it timeout_s 600):
#   1. the training jobs listed in .devpack/jobs, side by side, each for at most
#      TRAIN_MINUTES (a line: NAME then its extra `train` flags, e.g.
#      `noaug --batch-size 256 --augment none`; for the progressive pair give --epochs small
#      enough for its growth schedule to end inside TRAIN_MINUTES);
#   2. each job's model packaged (fp16 G + D) and sent back;
#   3. the CUDA tests.
# Every job trains on TRAIN_DATA (below) and, where the held-out pack .devpack/heldout.npz
# travelled and the judge works, scores its prior on it (--score-every in its flags). The
# machine's OpenCV (seen 2026-11-27) has no CascadeClassifier at all, so there the judge
# cannot run and the models are scored back here (`inpaint-toolkit sample --score`).
# Everything comes back through $OUT: each model as 15 MiB parts (the tool returns at most
# 8 files of 16 MiB; join them with cat), and one results.tar.gz (logs, metrics, scores,
# sample grids) rewritten after every step, so a run cut short still returns what it did.
#
# Here, first (the call carries .devpack; 64 MiB in all, the repository included):
#   python benchmarks/device/pack_faces.py pack .devpack/faces_celeba.npz CELEBA_TRAIN_FILES
#   python benchmarks/device/pack_faces.py pack .devpack/faces_lfw.npz LFW_TRAIN_FILES
#   python benchmarks/device/pack_faces.py pack .devpack/heldout.npz TEST_FILES  # scores only
#   pydantic's wheels in .devpack/whl (the device tool's README says how)
# There:        bash benchmarks/device/session.sh
#
# Every .devpack/faces*.npz pack is unpacked; TRAIN_DATA names the packs to train on, a
# name given twice drawn twice as often (default: every pack once). The held-out set is
# two thirds LFW, the training files two thirds CelebA (docs/model.md); to train on the
# held-out mix give TRAIN_DATA="faces_celeba faces_lfw faces_lfw faces_lfw faces_lfw".
#
# Lesson of the first GPU session: two trainings side by side, each with torch's default of
# one OpenMP thread per core, starved the CPU (300 images/s in all); so every job's threads
# are capped, to 12 cores shared out among the jobs.
set -u
TRAIN_MINUTES=${TRAIN_MINUTES:-6}
TRAIN_DATA=${TRAIN_DATA:-}
start=$SECONDS
results=/tmp/results
work=/tmp/work
mkdir -p "$results" "$work" /tmp/site
log() { echo "[$((SECONDS - start)) s] $*" | tee -a "$results/session.log"; }
save() { tar -czf "$OUT/results.tar.gz" -C "$results" . ; }
parts() { split -b 15M -d "$1" "$OUT/$2.part"; }
export PYTHONUNBUFFERED=1

if ! python3 -c "import pydantic" 2>/dev/null; then  # the machine's image lacks pydantic
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .devpack/whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD/src:$PWD/tests
toolkit() { python3 -m inpaint_toolkit "$@"; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$results/gpu.txt"
(nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 15 \
    > "$results/gpu_use.csv" 2>/dev/null &)  # not a child: `wait` below must not wait for it
log "unpacking faces"
for pack in .devpack/faces*.npz .devpack/heldout.npz; do
    [ -f "$pack" ] && python3 benchmarks/device/pack_faces.py unpack "$pack" \
        "$work/$(basename "$pack")" &
done
wait
data=()
for name in ${TRAIN_DATA:-$(cd "$work" && ls faces*.npz | sed 's/[.]npz$//')}; do
    data+=("$work/$name.npz")
done
held_out=()
judge_works="from inpaint_toolkit.evaluation.judge import FaceJudge; FaceJudge()"
if [ -f "$work/heldout.npz" ] && python3 -c "$judge_works" 2>> "$results/session.log"; then
    held_out=(--eval-data "$work/heldout.npz")
fi
log "training data: ${data[*]}; held-out scores: ${held_out[*]:-none}"

names=()
jobs_count=$(grep -c . .devpack/jobs)
threads=$((12 / jobs_count))
while read -r name flags; do
    [ -z "$name" ] && continue
    names+=("$name")
    log "training $name for at most $TRAIN_MINUTES min: $flags ($threads threads)"
    # shellcheck disable=SC2086  # flags holds several flags
    OMP_NUM_THREADS=$threads toolkit train --data "${data[@]}" "${held_out[@]}" \
        --out "$work/$name" --epochs 1000 --time-limit "$TRAIN_MINUTES" \
        --checkpoint-every 100000 --quiet $flags > "$results/train_$name.log" 2>&1 &
done < .devpack/jobs
wait
for name in "${names[@]}"; do
    log "$name: $(tail -n 1 "$results/train_$name.log")"
    mkdir -p "$results/$name"
    cp "$work/$name"/*.jsonl "$work/$name"/*.png "$results/$name/" 2>/dev/null
    last_samples=$(ls "$work/$name"/samples/*.png 2>/dev/null | tail -n 1)
    [ -n "$last_samples" ] && cp "$last_samples" "$results/$name/"
    python3 -m inpaint_toolkit.models "$work/$name/checkpoint.safetensors" \
        "$work/$name.safetensors" > /dev/null && parts "$work/$name.safetensors" "$name"
done
save

export OMP_NUM_THREADS=16
log "CUDA tests"
timeout 90 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py \
    > "$results/cuda_tests.log" 2>&1
log "CUDA tests exit $?"
log "end"
save
