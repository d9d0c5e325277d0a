// PS_HOST_DEVICE: index arithmetic that nvcc compiles for host and device and the host compiler
// compiles alone, so that a kernel and its CPU twin share it.
#pragma once

#ifdef __CUDACC__
#define PS_HOST_DEVICE __host__ __device__
#else
#define PS_HOST_DEVICE
#endif
