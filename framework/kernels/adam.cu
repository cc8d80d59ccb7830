// Adam and AdamW over every parameter of a model in two launches: one reduction for the
// gradient norm, one update. The parameters are a table: the address of each
// parameter's values and gradient (0 for a parameter without gradient), and where its
// values start in the flat index space [0, total) that the moments share.
//
// The arithmetic is that of the CPU optimiser (framework/src/optim/mod.rs, Update::host),
// in the same order. The norm is reduced in a fixed order (per-block partial sums, then
// one tree over the partials that every block repeats), so a run gives the same numbers
// on every replay.

#define XP_THREADS 256

// The tensor holding flat index i: the last t with starts[t] <= i (starts has n + 1
// entries, starts[n] = total).
__device__ __forceinline__ int xp_tensor_of(const unsigned long long* starts, int n,
                                            unsigned long long i) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (starts[mid] <= i) lo = mid; else hi = mid - 1;
    }
    return lo;
}

// Sums a block's values of `value` in shared memory, in a fixed tree order.
__device__ double xp_block_sum(double value, double* shared) {
    shared[threadIdx.x] = value;
    __syncthreads();
    for (int width = XP_THREADS / 2; width > 0; width /= 2) {
        if (threadIdx.x < width) shared[threadIdx.x] += shared[threadIdx.x + width];
        __syncthreads();
    }
    double sum = shared[0];
    __syncthreads();
    return sum;
}

// partials[blockIdx.x] = the sum of the squared gradients of the block's grid-stride
// share of [0, total). Launch with XP_THREADS threads and exactly n_partials blocks.
extern "C" __global__ void xp_adam_square_sums(
    int n, unsigned long long total, const unsigned long long* grads,
    const unsigned long long* starts, double* partials) {
    __shared__ double shared[XP_THREADS];
    double sum = 0.0;
    unsigned long long stride = (unsigned long long)gridDim.x * XP_THREADS;
    for (unsigned long long i = (unsigned long long)blockIdx.x * XP_THREADS + threadIdx.x;
         i < total; i += stride) {
        int t = xp_tensor_of(starts, n, i);
        const float* g = (const float*)grads[t];
        if (g != 0) {
            double v = (double)g[i - starts[t]];
            sum += v * v;
        }
    }
    sum = xp_block_sum(sum, shared);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

// The clip and the update. Every block reduces the n_partials (at most XP_THREADS)
// partial sums in the same order, so all see the same norm. A norm that is not finite
// leaves every weight as it was; block 0 writes the norm to norm_out for the host.
//
// l2 is Adam's weight decay (added to the gradient), decoupled AdamW's lr * wd.
extern "C" __global__ void xp_adam_update(
    int n, unsigned long long total, const unsigned long long* params,
    const unsigned long long* grads, const unsigned long long* starts, float* m, float* v,
    const double* partials, int n_partials, double* norm_out, double max_norm,
    float lr, float b1, float b2, float c1, float c2, float eps, float l2,
    float decoupled) {
    __shared__ double shared[XP_THREADS];
    double part = threadIdx.x < n_partials ? partials[threadIdx.x] : 0.0;
    double norm = sqrt(xp_block_sum(part, shared));
    if (blockIdx.x == 0 && threadIdx.x == 0) norm_out[0] = norm;
    if (!isfinite(norm)) return;
    float scale = (max_norm > 0.0 && norm > max_norm) ? (float)(max_norm / (norm + 1e-6)) : 1.0f;
    unsigned long long stride = (unsigned long long)gridDim.x * XP_THREADS;
    for (unsigned long long i = (unsigned long long)blockIdx.x * XP_THREADS + threadIdx.x;
         i < total; i += stride) {
        int t = xp_tensor_of(starts, n, i);
        const float* gp = (const float*)grads[t];
        if (gp == 0) continue;
        float* pp = (float*)params[t];
        unsigned long long k = i - starts[t];
        float p = pp[k];
        float g = gp[k] * scale + p * l2;
        float mi = m[i] * b1 + g * (1.0f - b1);
        float vi = v[i] * b2 + g * g * (1.0f - b2);
        m[i] = mi;
        v[i] = vi;
        float step = (mi / c1) / (sqrtf(vi / c2) + eps);
        pp[k] = p - step * lr - p * decoupled;
    }
}
