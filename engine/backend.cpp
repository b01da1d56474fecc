// Host side of the executors: memory, counted transfers, synchronisation, device discovery.
// Compiled by the host compiler; the CUDA runtime API is plain C, so only this file and the
// launch glue in kernels/launch.hpp know about CUDA.
#include "engine/backend.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(MDGPU_WITH_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace md {

const char* backend_name(Backend b) { return b == Backend::cuda ? "cuda" : "cpu"; }

bool cuda_compiled() {
#if defined(MDGPU_WITH_CUDA)
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#if defined(MDGPU_WITH_CUDA)
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "insufficient driver" error
    return 0;
  }
  return n;
#else
  return 0;
#endif
}

std::vector<std::string> cuda_device_descriptions() {
  std::vector<std::string> out;
#if defined(MDGPU_WITH_CUDA)
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    out.push_back(std::string("no usable CUDA device: ") + cudaGetErrorString(err));
    cudaGetLastError();
    return out;
  }
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) == cudaSuccess)
      out.push_back(std::to_string(d) + ": " + p.name + " (sm_" + std::to_string(p.major) +
                    std::to_string(p.minor) + ", " +
                    std::to_string(p.totalGlobalMem / (1024 * 1024)) + " MiB)");
  }
  if (n == 0) out.push_back("no CUDA device found");
#else
  out.push_back("this binary was built without the CUDA executor");
#endif
  return out;
}

Backend resolve_backend(const std::string& name) {
  if (name == "cpu") return Backend::cpu;
  if (name == "cuda") {
    if (!cuda_compiled())
      throw std::runtime_error("backend \"cuda\" requested but this binary was built without CUDA");
    if (cuda_device_count() == 0)
      throw std::runtime_error("backend \"cuda\" requested but no usable CUDA device was found (" +
                               cuda_device_descriptions().front() + ")");
    return Backend::cuda;
  }
  if (name == "auto") return cuda_device_count() > 0 ? Backend::cuda : Backend::cpu;
  throw std::runtime_error("unknown backend \"" + name + "\" (expected auto, cpu or cuda)");
}

#if defined(MDGPU_WITH_CUDA)
static void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}
#endif

Context::Context(Backend backend) : backend_(backend) {
  if (const char* env = std::getenv("MDGPU_SHUFFLE_LANES"))
    lane_shuffle_ = env[0] != '\0' && std::string(env) != "0";
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    cudaStream_t s = nullptr;
    cuda_check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
    stream_ = s;
  }
#else
  if (backend_ == Backend::cuda)
    throw std::runtime_error("CUDA backend requested but this binary was built without CUDA");
#endif
}

Context::~Context() {
  if (scratch_) deallocate(scratch_);
#if defined(MDGPU_WITH_CUDA)
  if (stream_) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
#endif
}

void Context::synchronize() {
  ++counters_.syncs;
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda)
    cuda_check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), "synchronize");
#endif
}

void* Context::scratch(std::size_t bytes) {
  if (bytes > scratch_bytes_) {
    if (scratch_) deallocate(scratch_);
    scratch_bytes_ = std::max<std::size_t>(bytes, 2 * scratch_bytes_);
    scratch_ = allocate(scratch_bytes_);
  }
  return scratch_;
}

void* Context::allocate(std::size_t bytes) {
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    void* p = nullptr;
    cuda_check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
  }
#endif
  std::size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  return p;
}

void Context::deallocate(void* p) noexcept {
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    cudaFree(p);
    return;
  }
#endif
  std::free(p);
}

void Context::copy_h2d(void* dst, const void* src, std::size_t bytes) {
  ++counters_.h2d;
  counters_.h2d_bytes += static_cast<long>(bytes);
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    auto s = static_cast<cudaStream_t>(stream_);
    cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s), "copy to device");
    cuda_check(cudaStreamSynchronize(s), "copy to device");
    return;
  }
#endif
  std::memcpy(dst, src, bytes);
}

void Context::copy_d2h(void* dst, const void* src, std::size_t bytes) {
  ++counters_.d2h;
  counters_.d2h_bytes += static_cast<long>(bytes);
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    auto s = static_cast<cudaStream_t>(stream_);
    cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), "copy to host");
    cuda_check(cudaStreamSynchronize(s), "copy to host");
    return;
  }
#endif
  std::memcpy(dst, src, bytes);
}

void Context::copy_d2d(void* dst, const void* src, std::size_t bytes) {
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice,
                               static_cast<cudaStream_t>(stream_)),
               "device copy");
    return;
  }
#endif
  std::memmove(dst, src, bytes);
}

}  // namespace md
