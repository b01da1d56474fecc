// The device transport of a decomposed run on CUDA (engine/comm.hpp DeviceTransport): NCCL on
// the Context's stream, so steady steps make no host copy and no host synchronisation and
// stay capturable. max: ncclAllReduce(max) of doubles. Exact Fixed128 sums: ncclAllGather of
// every rank's words, then a kernel adds them in rank order (two's-complement adds: exact,
// the same bits on every rank). Position exchange: grouped ncclSend/ncclRecv per rank.
// Compiled with MDGPU_NCCL (CMake MDGPU_NCCL, nccl.h + libnccl found, CUDA executor); otherwise
// make_nccl_transport returns nullptr. Built in CI; never run on this project's machines.
#include <memory>
#include <string>
#include <vector>

#include "engine/comm.hpp"
#include "engine/error.hpp"
#include "kernels/launch.hpp"

#if defined(MDGPU_NCCL) && defined(MDGPU_WITH_CUDA) && defined(__CUDACC__)
#include <cuda_runtime.h>
#include <nccl.h>
#define MDGPU_NCCL_ACTIVE 1
#endif

namespace md {

#if defined(MDGPU_NCCL_ACTIVE)

namespace {

void nccl_check(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess)
    throw Error(std::string("NCCL error in ") + what + ": " + ncclGetErrorString(rc));
}

class NcclTransport : public DeviceTransport {
 public:
  NcclTransport(Comm& comm, Context& ctx) : comm_(&comm), gathered_(ctx, 0) {
    ncclUniqueId id{};
    if (comm.rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    std::vector<std::uint8_t> mine(sizeof(id));
    std::memcpy(mine.data(), &id, sizeof(id));
    const auto all = comm.all_gather(mine);
    std::memcpy(&id, all[0].data(), sizeof(id));
    nccl_check(ncclCommInitRank(&nccl_, comm.size(), id, comm.rank()), "ncclCommInitRank");
  }
  ~NcclTransport() override { ncclCommDestroy(nccl_); }
  int ranks() const override { return comm_->size(); }
  const char* name() const override { return "nccl"; }

  void max(Context& ctx, double* values, int count) override {
    if (comm_->size() == 1 || count <= 0) return;
    nccl_check(ncclAllReduce(values, values, static_cast<std::size_t>(count), ncclDouble, ncclMax,
                             nccl_, stream(ctx)),
               "ncclAllReduce");
  }

  void sum(Context& ctx, Fixed128* values, int count) override {
    if (comm_->size() == 1 || count <= 0) return;
    const std::size_t need = static_cast<std::size_t>(comm_->size()) * static_cast<std::size_t>(count);
    if (gathered_.size() < need) gathered_.resize(need);  // first call (setup): an allocation
    nccl_check(ncclAllGather(values, gathered_.data(), 2 * static_cast<std::size_t>(count),
                             ncclUint64, nccl_, stream(ctx)),
               "ncclAllGather");
    parallel_for(ctx, count, SumRankWords{gathered_.data(), values, comm_->size(), count});
  }

  void all_to_all_v(Context& ctx, const void* send, const std::vector<long>& send_bytes,
                    void* recv, const std::vector<long>& recv_bytes) override {
    const int n = comm_->size();
    const auto* s = static_cast<const char*>(send);
    auto* r = static_cast<char*>(recv);
    long so = 0, ro = 0;
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    for (int p = 0; p < n; ++p) {
      const std::size_t u = static_cast<std::size_t>(p);
      if (send_bytes[u] > 0)
        nccl_check(ncclSend(s + so, static_cast<std::size_t>(send_bytes[u]), ncclChar, p, nccl_,
                            stream(ctx)),
                   "ncclSend");
      if (recv_bytes[u] > 0)
        nccl_check(ncclRecv(r + ro, static_cast<std::size_t>(recv_bytes[u]), ncclChar, p, nccl_,
                            stream(ctx)),
                   "ncclRecv");
      so += send_bytes[u];
      ro += recv_bytes[u];
      if (p != comm_->rank()) comm_->bytes_sent += send_bytes[u];
    }
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
    ++comm_->messages;
  }

 private:
  static cudaStream_t stream(Context& ctx) { return static_cast<cudaStream_t>(ctx.stream()); }
  Comm* comm_;
  ncclComm_t nccl_ = nullptr;
  DeviceArray<Fixed128> gathered_;
};

}  // namespace

bool nccl_built() { return true; }

std::unique_ptr<DeviceTransport> make_nccl_transport(Comm& comm, Context& ctx) {
  if (ctx.backend() != Backend::cuda) return nullptr;
  return std::make_unique<NcclTransport>(comm, ctx);
}

#else

bool nccl_built() { return false; }

std::unique_ptr<DeviceTransport> make_nccl_transport(Comm&, Context&) { return nullptr; }

#endif

}  // namespace md
