#include "io/signals.hpp"

#include <signal.h>
#include <unistd.h>

namespace md {

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop) _exit(128 + sig);  // second signal: leave at once (async-signal-safe)
  g_stop = sig;
}

void set_handler(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(sig, &sa, nullptr);
}

}  // namespace

void install_stop_handlers() {
  g_stop = 0;
  set_handler(SIGINT, on_stop_signal);
  set_handler(SIGTERM, on_stop_signal);
  set_handler(SIGUSR1, on_stop_signal);  // mpirun forwards it to every rank (and kills none)
}

void restore_default_handlers() {
  set_handler(SIGINT, SIG_DFL);
  set_handler(SIGTERM, SIG_DFL);
  set_handler(SIGUSR1, SIG_DFL);
}

const volatile std::sig_atomic_t* stop_flag() { return &g_stop; }

int stop_signal() { return static_cast<int>(g_stop); }

}  // namespace md
