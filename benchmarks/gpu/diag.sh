cd /work/main; export LD_LIBRARY_PATH=/work/main/.gpubin/lib:/usr/lib/x86_64-linux-gnu:/usr/local/cuda/targets/x86_64-linux/lib
.gpubin/test_cuda -tc="*block by block*" -s 2>&1 | grep -E "relative|test cases"
echo "--- NVIDIA_TF32_OVERRIDE=0, verbose"
NVIDIA_TF32_OVERRIDE=0 CTNN_CUDA_VERBOSE=1 .gpubin/test_cuda -tc="*block by block*" -s 2>&1 | grep -E "relative|test cases|ctnn cuda" | sort | uniq -c | sort -rn | head -40
NVIDIA_TF32_OVERRIDE=0 .gpubin/test_cuda_pytorch -tc="*logits*" 2>&1 | tail -3
