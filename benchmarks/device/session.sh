#!/usr/bin/env bash
# One prepared run on a lent GPU machine (about 9.5 minutes; give it timeout_s 600), in the order of what matters:
#   1. train the DCGAN face prior (from the packaged model) and the progressive pair, at once;
#   2. package the DCGAN, then train its encoder, while the pair goes on;
#   3. evaluate the new DCGAN against the packaged one (1,500 iterations, centre and half,
#      100 CelebA + 100 LFW test faces), all four runs at once;
#   4. the CUDA tests, then the benchmark suite on the GPU.
# Everything comes back through $OUT: the models as 15 MB parts (the tool returns files of
# 16 MiB at most), and one results.tar.gz rewritten after every step, so a run cut short
# still returns what it finished.
#
# Here, first:  python benchmarks/device/pack_faces.py pack .devpack/faces.npz TRAIN_FILES
#               (and the lossless test packs; see pack_faces.py), wheels in .devpack/whl
# There:        bash benchmarks/device/session.sh   (with .devpack carried)
set -u
DCGAN_MINUTES=${DCGAN_MINUTES:-4.4}
PAIR_MINUTES=${PAIR_MINUTES:-5.9}
PAIR_EPOCHS=${PAIR_EPOCHS:-16}
ENCODER_SECONDS=${ENCODER_SECONDS:-95}
EVAL_ITERATIONS=${EVAL_ITERATIONS:-1500}  # smaller only to rehearse this script on a CPU
EVAL_FACES=${EVAL_FACES:-100}
start=$SECONDS
results=/tmp/results
mkdir -p "$results" /tmp/work
log() { echo "[$((SECONDS - start)) s] $*" | tee -a "$results/session.log"; }
save() { tar -czf "$OUT/results.tar.gz" -C "$results" . ; }
parts() { split -b 15M -d "$1" "$OUT/$2.part"; }  # joined here with cat

if ! python3 -c "import pydantic" 2>/dev/null; then  # the machine's image lacks pydantic
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --target /tmp/site .devpack/whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD/src:$PWD/tests PYTHONUNBUFFERED=1
toolkit() { python3 -m inpaint_toolkit "$@"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$results/gpu.txt"
python3 -c "import torch, PIL; print(torch.__version__, PIL.__version__)" >> "$results/gpu.txt"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 20 \
    > "$results/gpu_use.csv" 2>/dev/null &
log "unpacking faces"
python3 benchmarks/device/pack_faces.py unpack .devpack/faces.npz /tmp/work/train.npz
for set in celeba_subset_test_64 lfw_deepfunneled_test_64; do
    python3 benchmarks/device/pack_faces.py unpack ".devpack/${set}_first100.npz" "/tmp/work/$set.npz"
done
held_out="/tmp/work/celeba_subset_test_64.npz /tmp/work/lfw_deepfunneled_test_64.npz"
packaged=src/inpaint_toolkit/models/dcgan_faces_64.safetensors

log "training: dcgan (${DCGAN_MINUTES} min) and progressive (${PAIR_EPOCHS} epochs)"
toolkit train --data /tmp/work/train.npz --eval-data $held_out --init "$packaged" \
    --out /tmp/work/dcgan --epochs 1000 --time-limit "$DCGAN_MINUTES" \
    --checkpoint-every 4000 --score-every 4 --quiet > "$results/dcgan.log" 2>&1 &
dcgan=$!
toolkit train --data /tmp/work/train.npz --eval-data $held_out \
    --generator progressive --discriminator progressive --out /tmp/work/progressive \
    --epochs "$PAIR_EPOCHS" --time-limit "$PAIR_MINUTES" --checkpoint-every 4000 \
    --score-every 4 --quiet > "$results/progressive.log" 2>&1 &
pair=$!
wait $dcgan
log "dcgan done (exit $?)"
run_files() {  # the run's small files: logs, curves, sample grids
    mkdir -p "$results/$1"
    cp /tmp/work/$1/*.jsonl /tmp/work/$1/*.png "$results/$1/" 2>/dev/null
    cp -r /tmp/work/$1/samples "$results/$1/" 2>/dev/null
}
run_files dcgan
python3 -m inpaint_toolkit.models /tmp/work/dcgan/checkpoint.safetensors /tmp/work/new.safetensors
parts /tmp/work/new.safetensors dcgan_new
save

log "encoder for the new dcgan (${ENCODER_SECONDS} s) and evaluation, while the pair trains"
timeout -s INT "$ENCODER_SECONDS" python3 -m inpaint_toolkit train-encoder \
    --data /tmp/work/train.npz --checkpoint /tmp/work/new.safetensors --steps 100000 \
    --out /tmp/work/encoder.safetensors --quiet > "$results/encoder.log" 2>&1 &
encoder=$!
evals=()
for set in celeba_subset_test_64 lfw_deepfunneled_test_64; do
    for model in new packaged; do
        checkpoint=/tmp/work/new.safetensors
        [ $model = packaged ] && checkpoint=$packaged
        toolkit eval --data "/tmp/work/$set.npz" --limit "$EVAL_FACES" --masks center,half \
            --methods dcgan --init random --adapt none --iterations "$EVAL_ITERATIONS" \
            --restarts 1 --batch-size 100 --checkpoint "$checkpoint" --no-originals --quiet \
            --out "$results/eval_${model}_$set" > "$results/eval_${model}_$set.log" 2>&1 &
        evals+=($!)
    done
done
wait "${evals[@]}"
log "evaluations done"
save
wait $encoder
log "encoder done (exit $?)"
[ -f /tmp/work/encoder.safetensors ] && parts /tmp/work/encoder.safetensors encoder_new
wait $pair
log "progressive done (exit $?)"
run_files progressive
python3 -m inpaint_toolkit.models /tmp/work/progressive/checkpoint.safetensors \
    /tmp/work/progressive.safetensors && parts /tmp/work/progressive.safetensors progressive
save

log "CUDA tests"
python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py > "$results/cuda_tests.log" 2>&1
log "CUDA tests exit $?"
save
log "benchmarks on the GPU"
timeout 100 python3 -m pytest -q -p no:cacheprovider benchmarks -k cuda \
    --benchmark-json="$results/benchmarks-gpu.json" > "$results/benchmarks.log" 2>&1
log "benchmarks exit $?"
save
log "end"
save
