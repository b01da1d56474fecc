// MPI implementation of engine/comm.hpp (compiled only with MDGPU_MPI): host buffers,
// MPI_COMM_WORLD, local rank from an MPI_COMM_TYPE_SHARED split. Fixed128 sums use a
// user-defined MPI operation (two's-complement 128-bit adds: exact and order-independent).
// With Comm::timeout > 0 every collective is started non-blocking and its request polled
// against the deadline (the watchdog: a rank that stopped responding stops the job instead
// of leaving its peers blocked forever); waiting ranks answer "are you there" messages on a
// private communicator so the rank that reports can name the ranks that did not answer.
// Timeout 0: the blocking collectives, as before the watchdog.
#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

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
    MPI_Comm_dup(MPI_COMM_WORLD, &watch_);
  }
  ~MpiComm() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    MPI_Comm_free(&watch_);
    MPI_Op_free(&fixed_op_);
    MPI_Type_free(&fixed_type_);
    if (owns_) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_; }
  std::string transport() const override { return "mpi"; }
  void barrier() override {
    collective("a barrier", [&](MPI_Request* q) {
      return q ? MPI_Ibarrier(MPI_COMM_WORLD, q) : MPI_Barrier(MPI_COMM_WORLD);
    });
  }
  void max(double* v, int n) override {
    all_reduce(v, n, MPI_DOUBLE, MPI_MAX);
  }
  void max(long* v, int n) override {
    all_reduce(v, n, MPI_LONG, MPI_MAX);
  }
  void sum(long* v, int n) override {
    all_reduce(v, n, MPI_LONG, MPI_SUM);
  }
  void sum(Fixed128* v, int n) override {
    all_reduce(v, n, fixed_type_, fixed_op_);
  }
  std::vector<std::vector<std::uint8_t>> all_to_all(
      const std::vector<std::vector<std::uint8_t>>& send) override {
    if (static_cast<int>(send.size()) != size_)
      throw Error("internal: all_to_all needs one buffer per rank");
    std::vector<int> scount(size_), rcount(size_), sdisp(size_), rdisp(size_);
    for (int r = 0; r < size_; ++r) scount[r] = static_cast<int>(send[r].size());
    collective("an all-to-all (counts)", [&](MPI_Request* q) {
      return q ? MPI_Ialltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT,
                               MPI_COMM_WORLD, q)
               : MPI_Alltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT,
                              MPI_COMM_WORLD);
    });
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
    collective("an all-to-all", [&](MPI_Request* q) {
      return q ? MPI_Ialltoallv(sbuf.data(), scount.data(), sdisp.data(), MPI_BYTE, rbuf.data(),
                                rcount.data(), rdisp.data(), MPI_BYTE, MPI_COMM_WORLD, q)
               : MPI_Alltoallv(sbuf.data(), scount.data(), sdisp.data(), MPI_BYTE, rbuf.data(),
                               rcount.data(), rdisp.data(), MPI_BYTE, MPI_COMM_WORLD);
    });
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
    collective("an all-to-all exchange", [&](MPI_Request* q) {
      return q ? MPI_Ialltoallv(send, scount.data(), sdisp.data(), MPI_BYTE, recv, rcount.data(),
                                rdisp.data(), MPI_BYTE, MPI_COMM_WORLD, q)
               : MPI_Alltoallv(send, scount.data(), sdisp.data(), MPI_BYTE, recv, rcount.data(),
                               rdisp.data(), MPI_BYTE, MPI_COMM_WORLD);
    });
    ++messages;
  }
  std::vector<std::vector<std::uint8_t>> all_gather(const std::vector<std::uint8_t>& mine) override {
    int n = static_cast<int>(mine.size());
    std::vector<int> counts(size_), disp(size_);
    collective("an all-gather (counts)", [&](MPI_Request* q) {
      return q ? MPI_Iallgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD, q)
               : MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    });
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      disp[r] = total;
      total += counts[r];
    }
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(total));
    collective("an all-gather", [&](MPI_Request* q) {
      return q ? MPI_Iallgatherv(mine.data(), n, MPI_BYTE, buf.data(), counts.data(),
                                 disp.data(), MPI_BYTE, MPI_COMM_WORLD, q)
               : MPI_Allgatherv(mine.data(), n, MPI_BYTE, buf.data(), counts.data(),
                                disp.data(), MPI_BYTE, MPI_COMM_WORLD);
    });
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
  using Clock = std::chrono::steady_clock;
  static constexpr int kPing = 1, kPong = 2;  // tags on watch_

  // One collective: call(nullptr) makes the blocking call (no timeout: the MPI library's own
  // wait), call(&request) starts the non-blocking one, which wait() completes by the deadline.
  template <class Call>
  void collective(const char* what, Call call) {
    if (!(timeout > 0)) {
      check(call(nullptr), what);
      return;
    }
    MPI_Request req;
    check(call(&req), what);
    wait(&req, what);
  }

  void all_reduce(void* v, int n, MPI_Datatype type, MPI_Op op) {
    collective("an all-reduce", [&](MPI_Request* q) {
      return q ? MPI_Iallreduce(MPI_IN_PLACE, v, n, type, op, MPI_COMM_WORLD, q)
               : MPI_Allreduce(MPI_IN_PLACE, v, n, type, op, MPI_COMM_WORLD);
    });
  }

  static double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }

  // Completes a request by polling it against the deadline (spins first, then yields the
  // core, then naps: the ranks may share cores) and answers the peers' pings meanwhile.
  void wait(MPI_Request* r, const char* what) {
    const Clock::time_point t0 = Clock::now();
    for (long poll = 0;; ++poll) {
      int done = 0;
      check(MPI_Test(r, &done, MPI_STATUS_IGNORE), what);
      if (done) return;
      if (poll < 64) continue;
      if ((poll & 15) == 0) {
        answer_pings();
        const double waited = since(t0);
        if (waited > timeout) unresponsive(what, waited);
        if (waited > 0.05) {
          std::this_thread::sleep_for(std::chrono::microseconds(waited > 1 ? 2000 : 100));
          continue;
        }
      }
      sched_yield();
    }
  }

  // Answers every pending ping (a peer that timed out asks who is still there).
  void answer_pings() {
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, kPing, watch_, &flag, &st);
      if (!flag) return;
      int v = 0;
      MPI_Recv(&v, 1, MPI_INT, st.MPI_SOURCE, kPing, watch_, MPI_STATUS_IGNORE);
      MPI_Request s;
      MPI_Isend(&rank_, 1, MPI_INT, st.MPI_SOURCE, kPong, watch_, &s);
      MPI_Request_free(&s);
    }
  }

  // This rank waited longer than the timeout: asks every other rank whether it is there
  // (waiting ranks answer from their polls within a grace period); the lowest-numbered rank
  // that answered (or this one) reports in one line and aborts the job. The others keep
  // answering until that abort reaches them (or report themselves after a longer grace).
  [[noreturn]] void unresponsive(const char* what, double waited) {
    const double grace = std::min(2.0, std::max(0.5, timeout));
    const std::size_t n = static_cast<std::size_t>(size_);
    std::vector<int> pong(n, 0), answered(n, 0);
    std::vector<MPI_Request> recv(n, MPI_REQUEST_NULL);
    answered[static_cast<std::size_t>(rank_)] = 1;
    for (int q = 0; q < size_; ++q) {
      if (q == rank_) continue;
      MPI_Request s;
      MPI_Isend(&ping_, 1, MPI_INT, q, kPing, watch_, &s);
      MPI_Request_free(&s);
      MPI_Irecv(&pong[static_cast<std::size_t>(q)], 1, MPI_INT, q, kPong, watch_,
                &recv[static_cast<std::size_t>(q)]);
    }
    const Clock::time_point t0 = Clock::now();
    while (since(t0) < grace) {
      answer_pings();
      for (int q = 0; q < size_; ++q) {
        if (recv[static_cast<std::size_t>(q)] == MPI_REQUEST_NULL) continue;
        int done = 0;
        MPI_Test(&recv[static_cast<std::size_t>(q)], &done, MPI_STATUS_IGNORE);
        if (done) answered[static_cast<std::size_t>(q)] = 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::string silent;
    int silent_count = 0, first_answering = rank_;
    for (int q = 0; q < size_; ++q) {
      if (!answered[static_cast<std::size_t>(q)]) {
        silent += (silent_count++ ? ", " : "") + std::to_string(q);
      } else if (q < first_answering) {
        first_answering = q;
      }
    }
    if (first_answering != rank_) {  // a lower rank reports; wait for its abort
      const Clock::time_point t1 = Clock::now();
      while (since(t1) < 4 * grace + 5) {
        answer_pings();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    char head[256];
    std::snprintf(head, sizeof head,
                  "rank %d waited %.1f s in %s at step %ld ([parallel] timeout = %g s): ", rank_,
                  waited, what, step, timeout);
    const std::string who =
        silent_count == 0 ? std::string("every rank answered this rank's query: mismatched "
                                        "collectives?")
                          : (silent_count == 1 ? "rank " : "ranks ") + silent + " did not answer";
    const std::string line = std::string("mdgpu: error: ") + head + "a rank stopped responding (" +
                             who + "); all ranks stop" + (note.empty() ? "" : "; " + note);
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, kExitUnresponsive);
    std::_Exit(kExitUnresponsive);
  }

  int rank_ = 0, size_ = 1, local_ = 0;
  bool owns_ = false;
  MPI_Datatype fixed_type_;
  MPI_Op fixed_op_;
  MPI_Comm watch_ = MPI_COMM_NULL;  // pings of the watchdog (apart from the collectives)
  const int ping_ = 0;              // the ping's payload (a send buffer that never changes)
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm(int* argc, char*** argv) {
  return std::make_unique<MpiComm>(argc, argv);
}

}  // namespace md
