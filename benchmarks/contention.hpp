#pragma once
// CPU time used by OTHER processes while a step ran — the same test as the careful oneDNN chain
// (../shared/bench/onednn_chain/train_step.cpp), so that ctnn and the chain drop the same kind of
// step when they are compared side by side on a shared 2-core machine.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ctnn_bench {

/// Busy CPU seconds of the whole machine since boot (/proc/stat, all states but idle and iowait).
inline double machine_busy_s() {
  FILE* f = std::fopen("/proc/stat", "r");
  unsigned long long u, n, sy, id, io, irq, sirq, st;
  const bool ok =
      f && std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &sy, &id, &io, &irq, &sirq, &st) == 8;
  if (f) std::fclose(f);
  return ok ? double(u + n + sy + irq + sirq + st) / double(sysconf(_SC_CLK_TCK)) : 0.0;
}

/// CPU seconds used by this process (user + system, /proc/self/stat fields 14 and 15).
inline double self_cpu_s() {
  FILE* f = std::fopen("/proc/self/stat", "r");
  char buf[4096];
  const std::size_t k = f ? std::fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) std::fclose(f);
  buf[k] = 0;
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces: skip past it
  unsigned long long utime = 0, stime = 0;
  if (!p || std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

/// Measures one interval: start() before the step, foreign_s() after it.
struct ForeignCpu {
  double busy0 = machine_busy_s(), self0 = self_cpu_s();
  double foreign_s() const { return (machine_busy_s() - busy0) - (self_cpu_s() - self0); }
  /// The chain's rule: others used at most 2 % of the step's wall time plus one 10 ms jiffy each way.
  static bool clean(double foreign, double step_s) { return foreign <= 0.02 * step_s + 0.02; }
};

}  // namespace ctnn_bench
