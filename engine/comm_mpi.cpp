// MPI implementation of engine/comm.hpp (compiled only with MDGPU_MPI): host buffers,
// MPI_COMM_WORLD, local rank from an MPI_COMM_TYPE_SHARED split. Fixed128 sums use a
// user-defined MPI operation (two's-complement 128-bit adds: exact and order-independent).
#include <mpi.h>

#include <cstdio>

#include "engine/comm.hpp"
#include "engine/error.hpp"

namespace md {

namespace {

void fixed_sum_op(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const Fixed128*>(in);
  auto* b = static_cast<Fixed128*>(inout);
  for (int i = 0; i < *len; ++i) b[i] += a[i];
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI error in ") + what);
}

class MpiComm : public Comm {
 public:
  MpiComm(int* argc, char*** argv) {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
      owns_ = true;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local_);
    MPI_Comm_free(&node);
    MPI_Type_contiguous(2, MPI_UINT64_T, &fixed_type_);
    MPI_Type_commit(&fixed_type_);
    MPI_Op_create(&fixed_sum_op, 1, &fixed_op_);
  }
  ~MpiComm() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    MPI_Op_free(&fixed_op_);
    MPI_Type_free(&fixed_type_);
    if (owns_) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_; }
  std::string transport() const override { return "mpi"; }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "barrier"); }
  void max(double* v, int n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "all-reduce");
  }
  void max(long* v, int n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_LONG, MPI_MAX, MPI_COMM_WORLD), "all-reduce");
  }
  void sum(long* v, int n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_LONG, MPI_SUM, MPI_COMM_WORLD), "all-reduce");
  }
  void sum(Fixed128* v, int n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, v, n, fixed_type_, fixed_op_, MPI_COMM_WORLD),
          "all-reduce");
  }
  std::vector<std::vector<std::uint8_t>> all_to_all(
      const std::vector<std::vector<std::uint8_t>>& send) override {
    if (static_cast<int>(send.size()) != size_)
      throw Error("internal: all_to_all needs one buffer per rank");
    std::vector<int> scount(size_), rcount(size_), sdisp(size_), rdisp(size_);
    for (int r = 0; r < size_; ++r) scount[r] = static_cast<int>(send[r].size());
    check(MPI_Alltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT, MPI_COMM_WORLD),
          "all-to-all counts");
    std::vector<std::uint8_t> sbuf, rbuf;
    int st = 0, rt = 0;
    for (int r = 0; r < size_; ++r) {
      sdisp[r] = st;
      rdisp[r] = rt;
      st += scount[r];
      rt += rcount[r];
      sbuf.insert(sbuf.end(), send[r].begin(), send[r].end());
      if (r != rank_) bytes_sent += scount[r];
    }
    rbuf.resize(static_cast<std::size_t>(rt));
    check(MPI_Alltoallv(sbuf.data(), scount.data(), sdisp.data(), MPI_BYTE, rbuf.data(),
                        rcount.data(), rdisp.data(), MPI_BYTE, MPI_COMM_WORLD),
          "all-to-all");
    ++messages;
    std::vector<std::vector<std::uint8_t>> recv(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r)
      recv[r].assign(rbuf.begin() + rdisp[r], rbuf.begin() + rdisp[r] + rcount[r]);
    return recv;
  }
  void all_to_all_v(const void* send, const std::vector<long>& send_bytes, void* recv,
                    const std::vector<long>& recv_bytes) override {
    if (static_cast<int>(send_bytes.size()) != size_ || static_cast<int>(recv_bytes.size()) != size_)
      throw Error("internal: all_to_all_v needs one count per rank");
    std::vector<int> scount(size_), rcount(size_), sdisp(size_), rdisp(size_);
    long st = 0, rt = 0;
    for (int r = 0; r < size_; ++r) {
      scount[r] = static_cast<int>(send_bytes[static_cast<std::size_t>(r)]);
      rcount[r] = static_cast<int>(recv_bytes[static_cast<std::size_t>(r)]);
      sdisp[r] = static_cast<int>(st);
      rdisp[r] = static_cast<int>(rt);
      st += scount[r];
      rt += rcount[r];
      if (r != rank_) bytes_sent += scount[r];
    }
    check(MPI_Alltoallv(send, scount.data(), sdisp.data(), MPI_BYTE, recv, rcount.data(),
                        rdisp.data(), MPI_BYTE, MPI_COMM_WORLD),
          "all-to-all");
    ++messages;
  }
  std::vector<std::vector<std::uint8_t>> all_gather(const std::vector<std::uint8_t>& mine) override {
    int n = static_cast<int>(mine.size());
    std::vector<int> counts(size_), disp(size_);
    check(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD),
          "all-gather counts");
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      disp[r] = total;
      total += counts[r];
    }
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(total));
    check(MPI_Allgatherv(mine.data(), n, MPI_BYTE, buf.data(), counts.data(), disp.data(),
                         MPI_BYTE, MPI_COMM_WORLD),
          "all-gather");
    bytes_sent += static_cast<long>(n) * (size_ - 1);
    ++messages;
    std::vector<std::vector<std::uint8_t>> out(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r) out[r].assign(buf.begin() + disp[r], buf.begin() + disp[r] + counts[r]);
    return out;
  }
  [[noreturn]] void abort(const std::string& message, int code) override {
    std::fprintf(stderr, "mdgpu: error (rank %d): %s\n", rank_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
  }

 private:
  int rank_ = 0, size_ = 1, local_ = 0;
  bool owns_ = false;
  MPI_Datatype fixed_type_;
  MPI_Op fixed_op_;
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm(int* argc, char*** argv) {
  return std::make_unique<MpiComm>(argc, argv);
}

}  // namespace md
