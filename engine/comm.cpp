#include "engine/comm.hpp"

#include <cstdio>
#include <cstdlib>

#include "engine/error.hpp"

#include "engine/backend.hpp"

namespace md {

std::vector<std::vector<std::uint8_t>> SerialComm::all_to_all(
    const std::vector<std::vector<std::uint8_t>>& send) {
  if (send.size() != 1) throw Error("internal: all_to_all needs one buffer per rank");
  return send;
}

void SerialComm::all_to_all_v(const void* send, const std::vector<long>& send_bytes, void* recv,
                              const std::vector<long>& recv_bytes) {
  if (send_bytes.size() != 1 || recv_bytes.size() != 1 || send_bytes[0] != recv_bytes[0])
    throw Error("internal: all_to_all_v needs one matching segment per rank");
  if (send_bytes[0] > 0) std::memmove(recv, send, static_cast<std::size_t>(send_bytes[0]));
}

std::vector<std::vector<std::uint8_t>> SerialComm::all_gather(const std::vector<std::uint8_t>& mine) {
  return {mine};
}

void SerialComm::abort(const std::string& message, int code) {
  std::fprintf(stderr, "mdgpu: error: %s\n", message.c_str());
  std::exit(code);
}

namespace {
std::unique_ptr<Comm>& world_ptr() {
  static std::unique_ptr<Comm> w = std::make_unique<SerialComm>();
  return w;
}

// Launched by an MPI launcher (OpenMPI, MPICH/Hydra, PMIx, Slurm)?
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE",
                        "MPI_LOCALNRANKS", "SLURM_STEP_NUM_TASKS"})
    if (std::getenv(v)) return true;
  return false;
}

void bind_device(int local_rank) {
  // The device a CUDA Context of this rank will use (backend's selection; --device overrides).
  const int n = cuda_compiled() ? cuda_device_count() : 0;
  if (n > 0) set_cuda_device(local_rank % n);
}
}  // namespace

Comm& world() { return *world_ptr(); }

bool mpi_built() {
#ifdef MDGPU_MPI
  return true;
#else
  return false;
#endif
}

void init_world(int* argc, char*** argv) {
#ifdef MDGPU_MPI
  if (launched_by_mpi()) {
    world_ptr() = make_mpi_comm(argc, argv);
    bind_device(world().local_rank());
  }
#else
  (void)argc;
  (void)argv;
  (void)&launched_by_mpi;
  (void)&bind_device;
#endif
}

void finalize_world() { world_ptr() = std::make_unique<SerialComm>(); }

void CommReducer::sum(Context& ctx, Fixed128* values, int count) {
  if (comm_->size() == 1 || count <= 0) return;
  std::vector<Fixed128> host(static_cast<std::size_t>(count));
  ctx.copy_d2h(host.data(), values, host.size() * sizeof(Fixed128));
  comm_->sum(host.data(), count);
  ctx.copy_h2d(values, host.data(), host.size() * sizeof(Fixed128));
}

}  // namespace md

namespace md {

void CommReducer::max(Context& ctx, double* values, int count) {
  if (comm_->size() == 1 || count <= 0) return;
  std::vector<double> host(static_cast<std::size_t>(count));
  ctx.copy_d2h(host.data(), values, host.size() * sizeof(double));
  comm_->max(host.data(), count);
  ctx.copy_h2d(values, host.data(), host.size() * sizeof(double));
}

const char* transport_name(Transport t) { return t == Transport::host ? "host" : "direct"; }

namespace {
// CPU executor: device memory is host memory (the strict arena is opened for the call).
class CpuDirectTransport : public DeviceTransport {
 public:
  explicit CpuDirectTransport(Comm& c) : comm_(&c) {}
  int ranks() const override { return comm_->size(); }
  const char* name() const override { return "direct (device buffers to the Comm)"; }
  void sum(Context& ctx, Fixed128* values, int count) override {
    if (comm_->size() == 1 || count <= 0) return;
    DeviceAccess open(ctx);
    comm_->sum(values, count);
  }
  void max(Context& ctx, double* values, int count) override {
    if (comm_->size() == 1 || count <= 0) return;
    DeviceAccess open(ctx);
    comm_->max(values, count);
  }
  void all_to_all_v(Context& ctx, const void* send, const std::vector<long>& send_bytes,
                    void* recv, const std::vector<long>& recv_bytes) override {
    DeviceAccess open(ctx);
    comm_->all_to_all_v(send, send_bytes, recv, recv_bytes);
  }

 private:
  Comm* comm_;
};
}  // namespace

std::unique_ptr<DeviceTransport> make_device_transport(Comm& comm, Context& ctx) {
  if (ctx.backend() == Backend::cpu) return std::make_unique<CpuDirectTransport>(comm);
  return make_nccl_transport(comm, ctx);
}

}  // namespace md
