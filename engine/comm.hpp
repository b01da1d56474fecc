// The ranks of a run and the collectives the decomposed engine needs (engine/distributed):
// rank/size, barrier, all-reduce of small host arrays, exact Fixed128 sums, all-to-all-v and
// all-gather-v of bytes, abort. SerialComm is one rank; the MPI implementation lives in
// engine/comm_mpi.cpp, compiled only with the CMake option MDGPU_MPI. io/main.cpp sets it up.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/cross_rank.hpp"
#include "engine/fixed_point.hpp"

namespace md {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank among the ranks of this node (binds devices: local_rank % devices).
  virtual int local_rank() const = 0;
  virtual std::string transport() const = 0;  // "serial", "mpi"
  virtual void barrier() = 0;
  // In-place all-reduce of `n` values (collective: same n on every rank).
  virtual void max(double* v, int n) = 0;
  virtual void max(long* v, int n) = 0;
  virtual void sum(long* v, int n) = 0;
  // Logical or (any rank true).
  bool any(bool flag) {
    long v = flag ? 1 : 0;
    max(&v, 1);
    return v != 0;
  }
  // Exact order-independent sum of fixed-point words (two's-complement 128-bit adds).
  virtual void sum(Fixed128* v, int n) = 0;
  // send[r]: bytes for rank r (size() entries); returns recv[r]: bytes from rank r.
  virtual std::vector<std::vector<std::uint8_t>> all_to_all(
      const std::vector<std::vector<std::uint8_t>>& send) = 0;
  // Contiguous exchange with counts fixed by the caller: `send` holds size() segments of
  // send_bytes[r] bytes in rank order, `recv` receives recv_bytes[r] bytes from each rank r in
  // rank order (the caller knows them: no count exchange). The buffers may be any memory the
  // transport can address: host buffers, or device buffers for a direct transport (the CPU
  // executor's device memory; CUDA-aware MPI).
  virtual void all_to_all_v(const void* send, const std::vector<long>& send_bytes, void* recv,
                            const std::vector<long>& recv_bytes) = 0;
  // Every rank's bytes, in rank order, on every rank.
  virtual std::vector<std::vector<std::uint8_t>> all_gather(const std::vector<std::uint8_t>& mine) = 0;
  // Stops every rank with the message (exit code `code`); never returns.
  [[noreturn]] virtual void abort(const std::string& message, int code) = 0;
  // Bytes moved by all_to_all / all_gather from this rank (diagnostics, message sizes).
  long bytes_sent = 0;
  long messages = 0;
  // Watchdog ([parallel] timeout, io/parallel_config.cpp): a rank that waits longer than
  // `timeout` seconds in one collective stops the job (MPI: the waits poll non-blocking
  // collectives against a deadline; one line naming this rank, the step, the wait and the
  // ranks that did not answer; exit kExitUnresponsive). 0: wait forever. `step` (the step
  // reached) and `note` (e.g. where the last checkpoint is) only go into that line.
  double timeout = 0;
  long step = -1;
  std::string note;
};

// Exit code of a run stopped because a rank stopped responding ([parallel] timeout).
constexpr int kExitUnresponsive = 6;

class SerialComm : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string transport() const override { return "serial"; }
  void barrier() override {}
  void max(double*, int) override {}
  void max(long*, int) override {}
  void sum(long*, int) override {}
  void sum(Fixed128*, int) override {}
  std::vector<std::vector<std::uint8_t>> all_to_all(
      const std::vector<std::vector<std::uint8_t>>& send) override;
  void all_to_all_v(const void* send, const std::vector<long>& send_bytes, void* recv,
                    const std::vector<long>& recv_bytes) override;
  std::vector<std::vector<std::uint8_t>> all_gather(const std::vector<std::uint8_t>& mine) override;
  [[noreturn]] void abort(const std::string& message, int code) override;
};

// The process-wide communicator: SerialComm until init_world() found an MPI launch.
Comm& world();
// Called once by main(): with MDGPU_MPI and a launch by mpirun/mpiexec/srun (detected from the
// launcher's environment), initialises MPI and binds the rank to a device by local rank
// (CUDA: cudaSetDevice(local_rank % devices)); otherwise the serial communicator.
void init_world(int* argc, char*** argv);
void finalize_world();
// Whether this build can run several ranks (MDGPU_MPI).
bool mpi_built();

#ifdef MDGPU_MPI
std::unique_ptr<Comm> make_mpi_comm(int* argc, char*** argv);
#endif

// CrossRankReducer over a Comm: host-staged (to_host, Comm::sum, to_device; counted). What a
// CUDA build without a device transport uses.
class CommReducer : public CrossRankReducer {
 public:
  explicit CommReducer(Comm& c) : comm_(&c) {}
  int ranks() const override { return comm_->size(); }
  void sum(Context& ctx, Fixed128* values, int count) override;
  void max(Context& ctx, double* values, int count) override;

 private:
  Comm* comm_;
};

// The transport of a decomposed run ([parallel] transport): "host" stages device buffers
// through counted host copies; "direct" hands device pointers to the transport (the CPU
// executor, whose device memory the host transport can address inside a device-access
// bracket; on CUDA a device transport: NCCL, engine/nccl_transport.cpp).
enum class Transport { host, direct };
const char* transport_name(Transport t);

// A transport on device buffers (Transport::direct): the cross-rank reductions
// (CrossRankReducer) and the per-step exchange of packed positions, with no host copy and no
// host synchronisation. CPU executor: the Comm addresses the device arrays inside a device
// access bracket (engine/comm.cpp). CUDA: NCCL, stream-ordered (engine/nccl_transport.cpp,
// compiled with MDGPU_NCCL).
class DeviceTransport : public CrossRankReducer {
 public:
  // send/recv: device buffers of size() segments (bytes per rank, rank order); collective.
  virtual void all_to_all_v(Context& ctx, const void* send, const std::vector<long>& send_bytes,
                            void* recv, const std::vector<long>& recv_bytes) = 0;
  virtual const char* name() const = 0;
};

// The device transport for ctx's executor: the CPU one, NCCL on CUDA when built with it,
// otherwise nullptr (use host staging).
std::unique_ptr<DeviceTransport> make_device_transport(Comm& comm, Context& ctx);
// Whether this build has a device transport for CUDA (MDGPU_NCCL).
bool nccl_built();
std::unique_ptr<DeviceTransport> make_nccl_transport(Comm& comm, Context& ctx);  // or nullptr

// Opens device memory to the host transport for its lifetime (CPU executor, strict memory
// mode): what a kernel launch does; not a transfer.
class DeviceAccess {
 public:
  explicit DeviceAccess(Context& c) : ctx_(c) { ctx_.begin_kernel(); }
  ~DeviceAccess() { ctx_.end_kernel(nullptr); }
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;

 private:
  Context& ctx_;
};

// Byte packing helpers for messages (trivially copyable values).
template <class T>
void put(std::vector<std::uint8_t>& b, const T& v) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}
template <class T>
T get(const std::vector<std::uint8_t>& b, std::size_t& at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  at += sizeof(T);
  return v;
}

}  // namespace md
