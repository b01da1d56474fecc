// Clean stops for `mdgpu run`: the first SIGINT, SIGTERM or SIGUSR1 sets a flag that the
// step loop reads once per step on the host (it then finishes the step, synchronises, writes
// a checkpoint and flushes outputs; the CLI exits with kExitStopped). A second signal exits at
// once with 128 + signal number; outputs are written in whole records, so none is cut.
// Several ranks (engine/distributed.hpp) agree on the stop at their next sync point (output,
// checkpoint, at least every [neighbor] check_every steps) through a host all-reduce of the
// flags. OpenMPI's mpirun forwards SIGTERM and SIGINT to every rank but sends SIGKILL one
// second later (odls_base_sigkill_timeout); SIGUSR1 it only forwards: `kill -USR1 <mpirun
// pid>` is the unhurried stop.
#pragma once

#include <csignal>

namespace md {

constexpr int kExitStopped = 3;  // stopped by SIGINT/SIGTERM after writing a checkpoint
constexpr int kExitSafety = 4;   // a safety check failed (last good state written)

void install_stop_handlers();
void restore_default_handlers();
const volatile std::sig_atomic_t* stop_flag();
// The signal that requested the stop (0 when none).
int stop_signal();

}  // namespace md
