// Host side of the executors: memory, counted transfers, synchronisation, device discovery.
// Compiled by the host compiler; the CUDA runtime API is plain C, so only this file and the
// launch glue in kernels/launch.hpp know about CUDA.
#include "engine/backend.hpp"

#include <cxxabi.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>

#include "engine/error.hpp"

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

static bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return v && v[0] != '\0' && std::string(v) != "0";
}

static int g_cuda_device = -1;  // -1: node-local rank
static bool g_debug_sync = false;

void set_cuda_device(int device) { g_cuda_device = device; }
void set_debug_sync_default(bool on) { g_debug_sync = on; }

int selected_cuda_device() {
  if (g_cuda_device >= 0) return g_cuda_device;
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MV2_COMM_WORLD_LOCAL_RANK"}) {
    const char* v = std::getenv(var);
    if (!v || !*v) continue;
    char* end = nullptr;
    const long r = std::strtol(v, &end, 10);
    if (*end == '\0' && r >= 0) {
      const int n = cuda_device_count();
      return n > 0 ? static_cast<int>(r % n) : static_cast<int>(r);
    }
  }
  return 0;
}

#if defined(MDGPU_WITH_CUDA)
#ifndef MDGPU_CUDA_ARCHS
#define MDGPU_CUDA_ARCHS ""
#endif
// True when code compiled for MDGPU_CUDA_ARCHS ("sm_80,sm_90", an entry ending in -real
// carries no PTX) can run on a device of compute capability major.minor: a cubin runs on its
// own major at an equal or higher minor; PTX is JIT-compiled for any newer device.
static bool arch_covered(int major, int minor) {
  const std::string list = MDGPU_CUDA_ARCHS;
  const int cc = 10 * major + minor;
  std::size_t pos = 0;
  while ((pos = list.find("sm_", pos)) != std::string::npos) {
    pos += 3;
    int arch = 0;
    while (pos < list.size() && list[pos] >= '0' && list[pos] <= '9') arch = 10 * arch + (list[pos++] - '0');
    const std::size_t comma = list.find(',', pos);
    const bool real_only =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos).find("real") !=
        std::string::npos;
    if (arch / 10 == major && arch % 10 <= minor) return true;
    if (!real_only && arch <= cc) return true;
  }
  return list.empty();  // unknown list: let the launch decide
}
#endif

std::string cuda_unusable_reason() {
#if defined(MDGPU_WITH_CUDA)
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (err == cudaErrorInsufficientDriver) {
      int drv = 0, rt = 0;
      cudaDriverGetVersion(&drv);
      cudaRuntimeGetVersion(&rt);
      return "the NVIDIA driver supports CUDA " + std::to_string(drv / 1000) + "." +
             std::to_string(drv % 1000 / 10) + ", older than this binary's CUDA runtime " +
             std::to_string(rt / 1000) + "." + std::to_string(rt % 1000 / 10);
    }
    if (err == cudaErrorNoDevice) return "no CUDA device found";
    return std::string("no usable CUDA device: ") + cudaGetErrorString(err);
  }
  if (n == 0) return "no CUDA device found";
  const int d = selected_cuda_device();
  if (d >= n)
    return "CUDA device " + std::to_string(d) + " requested but only " + std::to_string(n) +
           " visible";
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
    cudaGetLastError();
    return "cannot query CUDA device " + std::to_string(d);
  }
  if (!arch_covered(p.major, p.minor))
    return "CUDA device " + std::to_string(d) + " (" + p.name + ") is sm_" +
           std::to_string(p.major) + std::to_string(p.minor) + " but this binary holds code for " +
           MDGPU_CUDA_ARCHS + " only";
  return "";
#else
  return "this binary was built without the CUDA executor";
#endif
}

Backend resolve_backend(const std::string& name, std::string* why) {
  if (name == "cpu") {
    if (why) *why = "cpu executor (requested)";
    return Backend::cpu;
  }
  if (name == "cuda") {
    if (!cuda_compiled())
      throw std::runtime_error("backend \"cuda\" requested but this binary was built without CUDA");
    const std::string reason = cuda_unusable_reason();
    if (!reason.empty())
      throw std::runtime_error("backend \"cuda\" requested but " + reason);
    if (why) *why = "cuda executor (requested)";
    return Backend::cuda;
  }
  if (name == "auto") {
    const std::string reason = cuda_unusable_reason();
    if (reason.empty()) {
      if (why) *why = "cuda executor (auto)";
      return Backend::cuda;
    }
    if (why) *why = "cpu executor (auto: " + reason + ")";
    return Backend::cpu;
  }
  throw std::runtime_error("unknown backend \"" + name + "\" (expected auto, cpu or cuda)");
}

// ---------------------------------------------------------------- strict memory arena
// A reserved, initially inaccessible address range; first-fit allocation with coalescing of
// freed blocks; the used part [0, top) is made readable/writable only while a kernel or a
// transfer runs (one mprotect to open, one to close).

class StrictArena {
 public:
  explicit StrictArena(std::size_t reserve) : reserved_(reserve) {
    void* p = mmap(nullptr, reserved_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      throw Error("strict memory mode: cannot reserve " + std::to_string(reserve >> 20) +
                  " MiB of address space (set MDGPU_STRICT_ARENA_GIB lower)");
    base_ = static_cast<unsigned char*>(p);
    register_range();
  }
  ~StrictArena() {
    unregister_range();
    munmap(base_, reserved_);
  }
  StrictArena(const StrictArena&) = delete;
  StrictArena& operator=(const StrictArena&) = delete;

  void* allocate(std::size_t bytes) {
    const std::size_t need = std::max<std::size_t>(64, (bytes + 63) / 64 * 64);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second < need) continue;
      const std::size_t off = it->first, size = it->second;
      free_.erase(it);
      if (size > need) free_.emplace(off + need, size - need);
      return base_ + off;
    }
    if (top_ + need > reserved_) throw std::bad_alloc();
    const std::size_t off = top_;
    top_ += need;
    if (open_) protect(PROT_READ | PROT_WRITE);  // opened range grows with the arena
    return base_ + off;
  }

  void release(void* p, std::size_t bytes) {
    std::size_t off = static_cast<std::size_t>(static_cast<unsigned char*>(p) - base_);
    std::size_t size = std::max<std::size_t>(64, (bytes + 63) / 64 * 64);
    auto next = free_.lower_bound(off);
    if (next != free_.end() && next->first == off + size) {
      size += next->second;
      next = free_.erase(next);
    }
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == off) {
        off = prev->first;
        size += prev->second;
        free_.erase(prev);
      }
    }
    if (off + size == top_) {
      top_ = off;  // the free block at the end returns to the untouched part
    } else {
      free_.emplace(off, size);
    }
    // give large freed ranges back to the system (contents are undefined after release)
    const std::size_t page = page_size();
    const std::size_t lo = (off + page - 1) / page * page, hi = (off + size) / page * page;
    if (hi > lo && hi - lo >= (std::size_t{1} << 20)) madvise(base_ + lo, hi - lo, MADV_DONTNEED);
  }

  static void open_all() {
    for (int k = 0; k < kSlots; ++k)
      if (arenas_[k]) arenas_[k]->open();
  }
  static void close_all() {
    for (int k = 0; k < kSlots; ++k)
      if (arenas_[k]) arenas_[k]->close();
  }

  void open() {
    open_ = true;
    protect(PROT_READ | PROT_WRITE);
  }
  void close() {
    open_ = false;
    if (opened_ > 0) mprotect(base_, opened_, PROT_NONE);
    opened_ = 0;
  }

 private:
  static std::size_t page_size() {
    static const std::size_t p = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return p;
  }
  void protect(int prot) {
    const std::size_t page = page_size();
    const std::size_t want = (top_ + page - 1) / page * page;
    if (want > opened_) {
      if (mprotect(base_, want, prot) != 0) throw Error("strict memory mode: mprotect failed");
      opened_ = want;
    }
  }

  // Fault addresses inside a registered arena get a message before the default SIGSEGV.
  static constexpr int kSlots = 64;
  static std::atomic<std::uintptr_t> lo_[kSlots], hi_[kSlots];
  static StrictArena* arenas_[kSlots];  // live arenas (host thread that launches only)
  static struct sigaction previous_;
  static void on_segv(int sig, siginfo_t* info, void* uctx) {
    const auto a = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (int k = 0; k < kSlots; ++k) {
      if (a >= lo_[k].load() && a < hi_[k].load()) {
        static const char msg[] =
            "mdgpu: strict memory mode: host access to device memory outside a kernel launch or "
            "transfer (this would be an illegal access on a GPU)\n";
        ssize_t ignored = write(2, msg, sizeof(msg) - 1);
        (void)ignored;
        signal(SIGSEGV, SIG_DFL);  // returning re-executes the access: default action
        return;
      }
    }
    if (previous_.sa_flags & SA_SIGINFO) {
      if (previous_.sa_sigaction) return previous_.sa_sigaction(sig, info, uctx);
    } else if (previous_.sa_handler != SIG_DFL && previous_.sa_handler != SIG_IGN &&
               previous_.sa_handler != nullptr) {
      return previous_.sa_handler(sig);
    }
    signal(SIGSEGV, SIG_DFL);
  }
  void register_range() {
    for (int k = 0; k < kSlots; ++k) {
      if (hi_[k].load() == 0) {
        lo_[k].store(reinterpret_cast<std::uintptr_t>(base_));
        hi_[k].store(reinterpret_cast<std::uintptr_t>(base_) + reserved_);
        arenas_[k] = this;
        slot_ = k;
        break;
      }
    }
    struct sigaction cur {};
    sigaction(SIGSEGV, nullptr, &cur);
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == &on_segv) return;
    struct sigaction sa {};
    sa.sa_sigaction = &on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_);
  }
  void unregister_range() {
    if (slot_ < 0) return;
    arenas_[slot_] = nullptr;
    hi_[slot_].store(0);
    lo_[slot_].store(0);
  }

  unsigned char* base_ = nullptr;
  std::size_t reserved_ = 0, top_ = 0, opened_ = 0;
  bool open_ = false;
  int slot_ = -1;
  std::map<std::size_t, std::size_t> free_;  // offset -> size, below top_
};

std::atomic<std::uintptr_t> StrictArena::lo_[StrictArena::kSlots];
std::atomic<std::uintptr_t> StrictArena::hi_[StrictArena::kSlots];
StrictArena* StrictArena::arenas_[StrictArena::kSlots] = {};
struct sigaction StrictArena::previous_;

// All Contexts of a process share one device address space on a GPU (a kernel on one stream
// may read an array another Context allocated), so a launch opens every live arena.
void Context::open_device_memory() { StrictArena::open_all(); }
void Context::close_device_memory() { StrictArena::close_all(); }

#if defined(MDGPU_WITH_CUDA)
static void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}
#endif

Context::Context(Backend backend) : backend_(backend) {
  lane_shuffle_ = env_on("MDGPU_SHUFFLE_LANES");
  debug_sync_ = g_debug_sync || env_on("MDGPU_DEBUG_SYNC");
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    device_ = selected_cuda_device();
    cuda_check(cudaSetDevice(device_), "cudaSetDevice");
    cudaStream_t s = nullptr;
    cuda_check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
    stream_ = s;
  }
#else
  if (backend_ == Backend::cuda)
    throw std::runtime_error("CUDA backend requested but this binary was built without CUDA");
#endif
  if (backend_ == Backend::cpu && env_on("MDGPU_STRICT_MEMORY")) {
    std::size_t gib = 64;
    if (const char* v = std::getenv("MDGPU_STRICT_ARENA_GIB")) {
      const long g = std::strtol(v, nullptr, 10);
      if (g > 0) gib = static_cast<std::size_t>(g);
    }
    arena_ = new StrictArena(gib << 30);
  }
}

Context::~Context() {
  abort_capture();
  drop_graph();
  if (scratch_) deallocate(scratch_);
  if (stage_dev_) deallocate(stage_dev_);
#if defined(MDGPU_WITH_CUDA)
  if (stage_host_) cudaFreeHost(stage_host_);
#endif
  delete arena_;
#if defined(MDGPU_WITH_CUDA)
  if (stream_) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
#endif
}

std::string Context::device_description() const {
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    cudaDeviceProp p{};
    std::string name = "?";
    if (cudaGetDeviceProperties(&p, device_) == cudaSuccess)
      name = std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) +
             ", " + std::to_string(p.totalGlobalMem >> 20) + " MiB)";
    return "cuda:" + std::to_string(device_) + " " + name;
  }
#endif
  return "cpu";  // results do not depend on the thread count or the strict modes
}

void Context::debug_check(const char* name) {
  int status = 0;
  char* dem = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  last_kernel_ = status == 0 && dem ? dem : name;
  std::free(dem);
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda && !capturing_) {  // no synchronisation inside a capture
    cudaError_t err = cudaStreamSynchronize(static_cast<cudaStream_t>(stream_));
    if (err == cudaSuccess) err = cudaGetLastError();
    if (err != cudaSuccess)
      throw Error("CUDA error in kernel " + last_kernel_ + ": " + cudaGetErrorString(err));
  }
#endif
}

static void no_transfer_in_capture(bool capturing) {
  if (capturing)
    throw Error(
        "internal: host transfer or synchronisation inside a captured step (a steady step "
        "must not transfer; see Context::begin_capture)");
}

void Context::synchronize() {
  no_transfer_in_capture(capturing_);
  ++counters_.syncs;
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda)
    cuda_check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), "synchronize");
#endif
}

void* Context::scratch(std::size_t bytes) {
  if (bytes > scratch_bytes_) {
    if (scratch_) deallocate(scratch_);
    scratch_ = nullptr;
    const std::size_t want = std::max<std::size_t>(bytes, 2 * scratch_bytes_);
    scratch_bytes_ = 0;
    scratch_ = allocate(want);
    scratch_bytes_ = want;
  }
  return scratch_;
}

void* Context::allocate(std::size_t bytes) {
  void* p = nullptr;
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    const cudaError_t err = cudaMalloc(&p, bytes);
    if (err != cudaSuccess) {
      cudaGetLastError();
      throw Error("CUDA error in cudaMalloc of " + std::to_string(bytes) + " bytes (" +
                  std::to_string(current_bytes_ >> 20) + " MiB already allocated): " +
                  cudaGetErrorString(err));
    }
  }
#endif
  if (!p && arena_) p = arena_->allocate(bytes);
  if (!p && backend_ == Backend::cpu) {
    const std::size_t rounded = std::max<std::size_t>(64, (bytes + 63) / 64 * 64);
    p = std::aligned_alloc(64, rounded);
    if (!p) throw std::bad_alloc();
  }
  ++counters_.allocations;
  ++memory_epoch_;
  if (capturing_) capture_spoiled_ = true;
  current_bytes_ += bytes;
  peak_bytes_ = std::max(peak_bytes_, current_bytes_);
  const auto pos = std::lower_bound(live_.begin(), live_.end(), std::make_pair(p, std::size_t{0}));
  live_.insert(pos, {p, bytes});
  return p;
}

void Context::deallocate(void* p) noexcept {
  if (!p) return;
  ++memory_epoch_;
  if (capturing_) capture_spoiled_ = true;
  std::size_t bytes = 0;
  const auto pos = std::lower_bound(live_.begin(), live_.end(), std::make_pair(p, std::size_t{0}));
  if (pos != live_.end() && pos->first == p) {
    bytes = pos->second;
    live_.erase(pos);
  }
  current_bytes_ -= std::min(current_bytes_, bytes);
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    const cudaError_t err = cudaFree(p);
    if (err != cudaSuccess) {
      std::fprintf(stderr, "mdgpu: warning: CUDA error in cudaFree: %s\n", cudaGetErrorString(err));
      cudaGetLastError();
    }
    return;
  }
#endif
  if (arena_)
    arena_->release(p, bytes);
  else
    std::free(p);
}

// Explicit transfers open the strict arena for their duration.
namespace {
struct TransferScope {
  Context& ctx;
  explicit TransferScope(Context& c) : ctx(c) { ctx.begin_kernel(); }
  ~TransferScope() { ctx.end_kernel(nullptr); }
};
}  // namespace

void Context::copy_h2d(void* dst, const void* src, std::size_t bytes) {
  no_transfer_in_capture(capturing_);
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
  TransferScope open(*this);
  std::memcpy(dst, src, bytes);
}

void Context::copy_d2h(void* dst, const void* src, std::size_t bytes) {
  no_transfer_in_capture(capturing_);
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
  TransferScope open(*this);
  std::memcpy(dst, src, bytes);
}

void Context::copy_d2h_batch(const std::vector<HostCopy>& copies) {
  no_transfer_in_capture(capturing_);
  if (copies.empty()) return;
  std::size_t total = 0;
  for (const auto& c : copies) total += (c.bytes + 15) / 16 * 16;
  ++counters_.d2h;
  counters_.d2h_batched += static_cast<long>(copies.size());
  for (const auto& c : copies) counters_.d2h_bytes += static_cast<long>(c.bytes);
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    auto s = static_cast<cudaStream_t>(stream_);
    if (total > stage_dev_bytes_) {
      if (stage_dev_) deallocate(stage_dev_);
      stage_dev_ = nullptr;
      stage_dev_bytes_ = 0;
      stage_dev_ = allocate(total);
      stage_dev_bytes_ = total;
    }
    if (total > stage_host_bytes_) {
      if (stage_host_) cudaFreeHost(stage_host_);
      stage_host_ = nullptr;
      stage_host_bytes_ = 0;
      cuda_check(cudaMallocHost(&stage_host_, total), "cudaMallocHost (transfer staging)");
      stage_host_bytes_ = total;
    }
    auto* dev = static_cast<unsigned char*>(stage_dev_);
    std::size_t off = 0;
    for (const auto& c : copies) {
      cuda_check(cudaMemcpyAsync(dev + off, c.device, c.bytes, cudaMemcpyDeviceToDevice, s),
                 "staging copy");
      off += (c.bytes + 15) / 16 * 16;
    }
    cuda_check(cudaMemcpyAsync(stage_host_, stage_dev_, total, cudaMemcpyDeviceToHost, s),
               "copy to host (batched)");
    cuda_check(cudaStreamSynchronize(s), "copy to host (batched)");
    const auto* host = static_cast<const unsigned char*>(stage_host_);
    off = 0;
    for (const auto& c : copies) {
      std::memcpy(c.host, host + off, c.bytes);
      off += (c.bytes + 15) / 16 * 16;
    }
    return;
  }
#endif
  TransferScope open(*this);
  for (const auto& c : copies) std::memcpy(c.host, c.device, c.bytes);
}

void Context::copy_d2d(void* dst, const void* src, std::size_t bytes) {
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice,
                               static_cast<cudaStream_t>(stream_)),
               "device copy");
    if (capturing_) count_node();
    return;
  }
#endif
  if (capturing_) record([dst, src, bytes] { std::memmove(dst, src, bytes); });
  TransferScope open(*this);
  std::memmove(dst, src, bytes);
}

// ---------------------------------------------------------------- step graphs

void Context::begin_capture() {
  if (capturing_) throw Error("internal: nested step capture");
  drop_graph();
  recorded_.clear();
  capture_nodes_ = 0;
  capture_spoiled_ = false;
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda)
    cuda_check(cudaStreamBeginCapture(static_cast<cudaStream_t>(stream_),
                                      cudaStreamCaptureModeRelaxed),
               "cudaStreamBeginCapture");
#endif
  capturing_ = true;
}

bool Context::end_capture() {
  if (!capturing_) throw Error("internal: end_capture without begin_capture");
  capturing_ = false;
  ++counters_.graph_captures;
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    auto s = static_cast<cudaStream_t>(stream_);
    cudaGraph_t graph = nullptr;
    cuda_check(cudaStreamEndCapture(s, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0ULL);
    std::size_t nodes = 0;
    if (err == cudaSuccess) cudaGraphGetNodes(graph, nullptr, &nodes);
    cudaGraphDestroy(graph);
    cuda_check(err, "cudaGraphInstantiate");
    // The captured work has not run yet: this launch executes the step.
    const cudaError_t launched = cudaGraphLaunch(exec, s);
    if (launched != cudaSuccess) cudaGraphExecDestroy(exec);
    cuda_check(launched, "cudaGraphLaunch");
    if (capture_spoiled_ || nodes == 0) {
      cudaGraphExecDestroy(exec);
      return false;
    }
    graph_exec_ = exec;
    graph_nodes_ = static_cast<long>(nodes);
    ++graph_serial_;
    return true;
  }
#endif
  // CPU: the captured launches have already run.
  if (capture_spoiled_ || recorded_.empty()) {
    recorded_.clear();
    return false;
  }
  graph_.swap(recorded_);
  recorded_.clear();
  graph_nodes_ = capture_nodes_;
  ++graph_serial_;
  return true;
}

void Context::abort_capture() noexcept {
  if (!capturing_) return;
  capturing_ = false;
  recorded_.clear();
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(static_cast<cudaStream_t>(stream_), &graph) == cudaSuccess && graph)
      cudaGraphDestroy(graph);
    cudaGetLastError();
  }
#endif
}

void Context::replay_graph() {
  if (!has_graph()) throw Error("internal: replay_graph without a captured graph");
  ++counters_.launches;
  ++counters_.graph_replays;
  counters_.graph_nodes += graph_nodes_;
#if defined(MDGPU_WITH_CUDA)
  if (backend_ == Backend::cuda) {
    cuda_check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph_exec_),
                               static_cast<cudaStream_t>(stream_)),
               "cudaGraphLaunch");
    if (debug_sync_) debug_check("step graph");
    return;
  }
#endif
  begin_kernel();
  try {
    for (const auto& launch : graph_) launch();
  } catch (...) {
    end_kernel(nullptr);
    throw;
  }
  end_kernel(debug_sync_ ? "step graph" : nullptr);
}

void Context::drop_graph() noexcept {
#if defined(MDGPU_WITH_CUDA)
  if (graph_exec_) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph_exec_));
#endif
  graph_exec_ = nullptr;
  graph_.clear();
  graph_nodes_ = 0;
}

}  // namespace md
