// Dropout on the device, drawing what the CPU draws (src/dropout/draws.rs): element i
// of a mask under `key` is kept when two rounds of MurmurHash3's 32-bit finaliser of
// (i, key) reach `threshold`; a kept element is multiplied by `scale`, a dropped one by
// zero. The backward pass is the same kernel on the gradient, under the same key.

__device__ __forceinline__ unsigned int xp_fmix32(unsigned int x) {
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    return x ^ (x >> 16);
}

// y[i] = x[i] * (kept(i) ? scale : 0), for i in [0, n); x and y contiguous.
extern "C" __global__ void xp_dropout_f32(const float* x, float* y, unsigned int n,
                                          unsigned long long key, unsigned int threshold,
                                          float scale) {
    unsigned int low = (unsigned int)key, high = (unsigned int)(key >> 32);
    for (unsigned int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += gridDim.x * blockDim.x) {
        unsigned int bits = xp_fmix32(xp_fmix32(i ^ low) ^ high);
        y[i] = x[i] * (bits < threshold ? 0.0f : scale);
    }
}
