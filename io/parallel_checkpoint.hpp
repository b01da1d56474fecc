// Checkpoints and clean stops of a decomposed run (several ranks): the checkpoint is the
// one-rank file (io/checkpoint.hpp, same format), gathered in the input's id order on rank 0
// and written there atomically, so a run of N ranks restarts on M ranks (one included) and a
// one-rank checkpoint restarts on N. Called by io/parallel_config.cpp (run_parallel_job).
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/distributed.hpp"
#include "io/checkpoint.hpp"

namespace md {

// Collective: the state of every rank's owned atoms (positions, velocities, forces, image
// flags, the list's build reference) and the global state (step, cell, integrator) as the
// one-rank checkpoint, in the order of `input`'s ids, on rank 0 (other ranks: only the
// header fields). Neighbour capacities: the largest of any rank.
Checkpoint capture_distributed_checkpoint(DistributedRun& run, Comm& comm, const Structure& input,
                                          Integrator& integ, long step, double dt);

// Collective: rank 0 writes `c` atomically (the previous file kept as .prev); a failure is
// reported on every rank as the same InputError naming the file.
void write_checkpoint_on_rank0(Comm& comm, const std::string& path, const Checkpoint& c);

// The checkpoint's atoms as DistributedRun::restore takes them (types from the input's
// id -> type map; an id not in the input: InputError naming `source`).
std::vector<DistributedRun::Atom> checkpoint_atoms(const Checkpoint& c, const Structure& input,
                                                   const std::string& source);

// Collective (one host all-reduce of one integer, no device transfer): the stop signal
// requested on any rank (0: none); every rank gets the same answer.
int collective_stop_signal(Comm& comm, const volatile std::sig_atomic_t* flag);

// Collective safety verdict (engine/safety.hpp): runs `check` on every rank; when it throws
// SafetyError on any rank, every rank throws SafetyError with the message of the lowest such
// rank ("rank R: ..."; `ranks` > 1), so all ranks stop together.
void collective_safety(Comm& comm, const std::function<void()>& check);

}  // namespace md
