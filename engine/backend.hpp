// Execution backends: the Context that owns an executor (CPU/OpenMP or CUDA), its counters
// (kernel launches, host<->device transfers, synchronisations) and device memory.
// Every array the time loop touches is a DeviceArray; host code reads or writes one only
// through Context::to_host / Context::to_device, which are counted on both executors so a
// CPU test can prove the GPU contract (no transfers or syncs on steps without output).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__CUDACC__)
#define MD_HD __host__ __device__
#define MD_INLINE __host__ __device__ inline
#else
#define MD_HD
#define MD_INLINE inline
#endif

namespace md {

using Index = std::int64_t;

enum class Backend { cpu, cuda };

const char* backend_name(Backend b);

// Parses "auto" | "cpu" | "cuda"; "auto" resolves to cuda when the selected device is usable
// (present, driver new enough, compute capability covered by the compiled architectures).
// `why`, when given, receives one line saying what was chosen and, on a fall-back to the
// CPU, why (old driver, no device, unsupported sm).
Backend resolve_backend(const std::string& name, std::string* why = nullptr);

// CUDA device a new CUDA Context uses: set_cuda_device(N) (the CLI's --device), else the
// node-local rank (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID, MV2_COMM_WORLD_LOCAL_RANK)
// modulo the device count, else 0.
void set_cuda_device(int device);
int selected_cuda_device();
// Empty when the selected device can run this binary's kernels, else the reason it cannot.
std::string cuda_unusable_reason();

// Process-wide debug-sync default (CLI --debug-sync; env MDGPU_DEBUG_SYNC=1 also turns it on):
// every launch is followed by a synchronisation and an error check naming the kernel.
void set_debug_sync_default(bool on);

// True when this binary was built with the CUDA executor.
bool cuda_compiled();
// Number of usable CUDA devices (0 when not compiled with CUDA or no driver/device).
int cuda_device_count();
// One line per device ("0: NVIDIA A100 ... (sm_80)"), or the reason none is usable.
std::vector<std::string> cuda_device_descriptions();

struct Counters {
  long launches = 0;   // kernel launches (parallel_for / reduce phases)
  long allocations = 0;  // device allocations (Context::allocate, scratch growth included)
  long h2d = 0;        // host->device transfers
  long d2h = 0;        // device->host transfers
  long syncs = 0;      // explicit synchronisations
  long h2d_bytes = 0;
  long d2h_bytes = 0;
  long d2h_batched = 0;  // arrays moved by batched transfers (copy_d2h_batch: one d2h each)
  // Step graphs (Context::begin_capture): captures made, replays launched (each replay also
  // counts as one launch in `launches`), and kernel/copy nodes those replays ran.
  long graph_captures = 0;
  long graph_replays = 0;
  long graph_nodes = 0;
};

template <class T>
class DeviceArray;
class StrictArena;

// One array of a batched device->host copy (Context::copy_d2h_batch).
struct HostCopy {
  void* host;
  const void* device;
  std::size_t bytes;
};

// Owns an executor. Not copyable; DeviceArrays keep a pointer to their Context.
class Context {
 public:
  explicit Context(Backend backend);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Backend backend() const { return backend_; }
  bool on_cuda() const { return backend_ == Backend::cuda; }
  Counters& counters() { return counters_; }
  const Counters& counters() const { return counters_; }
  void* stream() const { return stream_; }

  // Strict lane mode (CPU executor): team kernels run each lane loop in a permuted order so
  // that a dependency between lanes of one loop (a race on a GPU) changes results. Off by
  // default; on when the environment variable MDGPU_SHUFFLE_LANES is set to a non-zero value
  // (the test suite sets it) or through set_lane_shuffle.
  bool lane_shuffle() const { return lane_shuffle_; }
  void set_lane_shuffle(bool on) { lane_shuffle_ = on; }

  // Strict memory mode (CPU executor): device allocations come from an arena that is
  // readable and writable only inside kernel launches and explicit transfers, so a host
  // dereference of device memory segfaults as it would fault on a GPU. On when the
  // environment variable MDGPU_STRICT_MEMORY is non-zero at construction (the test suite
  // sets it). Arena size: MDGPU_STRICT_ARENA_GIB (default 64 GiB of reserved address space).
  bool strict_memory() const { return arena_ != nullptr; }

  // Debug sync: after every launch, synchronise and check for errors, naming the kernel.
  // Default from set_debug_sync_default / MDGPU_DEBUG_SYNC. Debug-sync synchronisations are
  // not counted in Counters::syncs.
  bool debug_sync() const { return debug_sync_; }
  void set_debug_sync(bool on) { debug_sync_ = on; }

  // Kernel bracket used by the launch glue (kernels/launch.hpp, kernels/team.hpp): opens
  // device memory to the host in strict mode (nested brackets are cheap), and in debug-sync
  // mode checks the launch after it was enqueued. `name` is a mangled type name or a literal.
  void begin_kernel() {
    if (arena_ && open_depth_++ == 0) open_device_memory();
  }
  void end_kernel(const char* name) {
    if (arena_ && --open_depth_ == 0) close_device_memory();
    if (debug_sync_ && name) debug_check(name);
  }
  // The kernel named by the last debug-sync check (demangled), empty if none.
  const std::string& last_kernel() const { return last_kernel_; }

  // Device memory accounting: bytes currently allocated through this Context and the peak.
  std::size_t device_bytes() const { return current_bytes_; }
  std::size_t peak_device_bytes() const { return peak_bytes_; }
  // The device this Context runs on, e.g. "cpu (OpenMP)" or "cuda:0 NVIDIA H200 (sm_90)".
  std::string device_description() const;
  int device() const { return device_; }

  // Waits until all enqueued device work is complete (counted).
  void synchronize();

  // ---- step graphs (CUDA graphs; emulated faithfully on the CPU executor)
  // Between begin_capture and end_capture every launch (parallel_for, reduce,
  // parallel_for_team, fill, the gated scan) and device copy is recorded with its arguments.
  // CUDA: stream capture into a cudaGraph, instantiated at end_capture and launched once (the
  // captured work executes then). CPU: each launch runs as usual and is also recorded as a
  // closure holding copies of the functor and its arguments. replay_graph() launches the
  // recorded sequence again (CUDA: cudaGraphLaunch; CPU: the closures in order), so host-side
  // arguments are those of the capture: anything that changes between steps must be read on
  // the device. Host transfers and synchronisations inside a capture throw. An allocation or
  // deallocation (memory_epoch() changes) during the capture spoils it: end_capture returns
  // false and keeps no graph; a graph whose pointers may be stale must be dropped by the
  // caller (Simulation compares memory_epoch()).
  void begin_capture();
  bool end_capture();
  void abort_capture() noexcept;  // ends a capture left open by an exception, keeps nothing
  void replay_graph();
  void drop_graph() noexcept;
  bool capturing() const { return capturing_; }
  bool has_graph() const { return graph_nodes_ > 0; }
  // Changes with every successful capture (tells a graph's owner whether it is still its own).
  std::uint64_t graph_serial() const { return graph_serial_; }
  // Kernel and copy nodes of the current graph (0: none).
  long graph_nodes() const { return graph_nodes_; }
  // Incremented by every allocation and deallocation through this Context.
  std::uint64_t memory_epoch() const { return memory_epoch_; }
  // CPU executor, during a capture: appends a launch to the recorded sequence (launch glue).
  void record(std::function<void()> launch) {
    recorded_.push_back(std::move(launch));
    ++capture_nodes_;
  }
  // CUDA executor, during a capture: one more node (launch glue, for the node count).
  void count_node() { ++capture_nodes_; }

  // Raw memory (used by DeviceArray). Device memory on CUDA, aligned host memory on CPU
  // (arena memory in strict mode).
  void* allocate(std::size_t bytes);
  void deallocate(void* p) noexcept;
  // Counted transfers.
  void copy_h2d(void* dst, const void* src, std::size_t bytes);
  void copy_d2h(void* dst, const void* src, std::size_t bytes);
  // Sync-point gather: copies every entry to the host as one counted transfer (Counters::d2h
  // + 1, d2h_batched + entries). CUDA: the arrays are packed stream-ordered into a device
  // staging buffer, copied once into pinned host memory and synchronised once (instead of one
  // pageable copy and one synchronisation per array); both buffers grow on demand and are
  // kept. CPU: one bracket, a memcpy per entry.
  void copy_d2h_batch(const std::vector<HostCopy>& copies);
  // Device-to-device copy: not a host transfer, not counted.
  void copy_d2d(void* dst, const void* src, std::size_t bytes);

  // Reusable device workspace of at least `bytes` (for reductions and scans). Growing it
  // reallocates (counted in Counters::allocations), so reserve_scratch the final size during
  // setup; enqueued users are stream-ordered.
  void* scratch(std::size_t bytes);
  void reserve_scratch(std::size_t bytes) { scratch(bytes); }

  template <class T>
  void to_device(const std::vector<T>& host, DeviceArray<T>& dev);
  template <class T>
  std::vector<T> to_host(const DeviceArray<T>& dev);
  template <class T>
  std::vector<T> to_host(const DeviceArray<T>& dev, std::size_t count);

 private:
  void open_device_memory();
  void close_device_memory();
  void debug_check(const char* name);

  Backend backend_;
  Counters counters_;
  void* stream_ = nullptr;
  bool lane_shuffle_ = false;
  bool debug_sync_ = false;
  int device_ = -1;
  void* scratch_ = nullptr;
  std::size_t scratch_bytes_ = 0;
  std::size_t current_bytes_ = 0, peak_bytes_ = 0;
  std::vector<std::pair<void*, std::size_t>> live_;  // allocation sizes (sorted by address)
  StrictArena* arena_ = nullptr;
  int open_depth_ = 0;
  std::string last_kernel_;
  // step graphs
  bool capturing_ = false;
  bool capture_spoiled_ = false;
  long capture_nodes_ = 0, graph_nodes_ = 0;
  std::uint64_t memory_epoch_ = 0, graph_serial_ = 0;
  std::vector<std::function<void()>> recorded_, graph_;  // CPU: closures of the capture
  void* graph_exec_ = nullptr;                            // CUDA: cudaGraphExec_t
  // batched transfers (CUDA): device staging buffer and pinned host buffer
  void* stage_dev_ = nullptr;
  void* stage_host_ = nullptr;
  std::size_t stage_dev_bytes_ = 0, stage_host_bytes_ = 0;
};

// Adds `dev[0..n)` -> `host` (resized to n) to a batch for Context::copy_d2h_batch.
template <class T>
void add_host_copy(std::vector<HostCopy>& batch, std::vector<T>& host, const DeviceArray<T>& dev,
                   std::size_t n) {
  if (n > dev.size()) throw std::out_of_range("add_host_copy: count exceeds array size");
  host.resize(n);
  if (n) batch.push_back(HostCopy{host.data(), dev.data(), n * sizeof(T)});
}

// RAII kernel bracket (see Context::begin_kernel).
class KernelScope {
 public:
  KernelScope(Context& ctx, const char* name) : ctx_(ctx), name_(name) { ctx_.begin_kernel(); }
  // No debug check while an exception from the kernel body is already propagating.
  ~KernelScope() noexcept(false) { ctx_.end_kernel(std::uncaught_exceptions() ? nullptr : name_); }
  KernelScope(const KernelScope&) = delete;
  KernelScope& operator=(const KernelScope&) = delete;

 private:
  Context& ctx_;
  const char* name_;
};

// Move-only RAII device buffer of trivially copyable T.
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(Context& ctx, std::size_t n) : ctx_(&ctx) { resize(n); }
  ~DeviceArray() { release(); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept
      : ctx_(o.ctx_), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      release();
      ctx_ = o.ctx_;
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }

  void bind(Context& ctx) { ctx_ = &ctx; }
  // Reallocates to n elements; contents are undefined afterwards.
  void resize(std::size_t n) {
    if (n == size_) return;
    if (!ctx_) throw std::logic_error("DeviceArray::resize without a Context");
    release();
    if (n > 0) data_ = static_cast<T*>(ctx_->allocate(n * sizeof(T)));
    size_ = n;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  Context* context() const { return ctx_; }

 private:
  void release() noexcept {
    if (data_ && ctx_) ctx_->deallocate(data_);
    data_ = nullptr;
    size_ = 0;
  }
  Context* ctx_ = nullptr;
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

template <class T>
void Context::to_device(const std::vector<T>& host, DeviceArray<T>& dev) {
  if (dev.size() < host.size()) dev.resize(host.size());
  if (!host.empty()) copy_h2d(dev.data(), host.data(), host.size() * sizeof(T));
}

template <class T>
std::vector<T> Context::to_host(const DeviceArray<T>& dev) {
  return to_host(dev, dev.size());
}

template <class T>
std::vector<T> Context::to_host(const DeviceArray<T>& dev, std::size_t count) {
  if (count > dev.size()) throw std::out_of_range("to_host: count exceeds array size");
  std::vector<T> host(count);
  if (count) copy_d2h(host.data(), dev.data(), count * sizeof(T));
  return host;
}

// Uploads a host table into dev (bound to ctx), sized to at least one element so its pointer
// is valid in kernels even for an empty table. Setup-time only (a counted transfer).
template <class T>
void upload(Context& ctx, const std::vector<T>& host, DeviceArray<T>& dev) {
  dev.bind(ctx);
  dev.resize(host.size() > 0 ? host.size() : 1);
  ctx.to_device(host, dev);
}

// Copies src[0..n) into dst (device to device), growing dst if needed.
template <class T>
void copy_device(Context& ctx, const DeviceArray<T>& src, DeviceArray<T>& dst, std::size_t n) {
  if (dst.size() < n) dst.resize(n);
  if (n) ctx.copy_d2d(dst.data(), src.data(), n * sizeof(T));
}

}  // namespace md
