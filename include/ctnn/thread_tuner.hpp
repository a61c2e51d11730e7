#pragma once
// ThreadTuner: picks the CPU thread count from measured step times, for machines whose cores other
// programs may take at any moment (a laptop, a shared 2-core VM, a CI runner).
//
// Why: oneDNN's OpenMP threads meet at a barrier after every parallel region, so a step runs at
// the pace of its slowest core. With one of two cores held by another process, 2 threads ran the
// seed net's train step at 98 img/s and 1 thread at 137 img/s; both cores free: 266 vs 140
// (benchmarks/README.md, "threads"). No setting is best in both cases, and nothing tells a
// program which cores are busy — so measure: the tuner tries one thread fewer once at the start
// and again whenever the step time has grown, one more from time to time when below the maximum,
// and keeps whichever ran faster.
//
// It is pure bookkeeping (no OpenMP, no clock): the caller times its steps, reports them with
// record(), and applies a new count when record() returns one (train/adaptive_threads.hpp does
// both for train::fit; oneDNN builds its primitives for a thread count, so the model's
// workspaces are rebuilt — Model::reset_workspaces).
#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace ctnn {

struct ThreadTunerOptions {
  int window = 5;              ///< steps whose median is a setting's current speed
  int probe_steps = 3;         ///< steps timed when trying another count (after one warm-up step)
  double slowdown = 1.25;      ///< try fewer threads when the median exceeds the best seen by this
  double gain = 1.05;          ///< a probed count must be this much faster to be kept
  int probe_up_every = 100;    ///< steps between tries of one more thread while below the maximum
  int max_probe_every = 1600;  ///< the interval doubles after each failed try, up to this
  /// ... but a try comes at least this often in seconds of reported steps: at batch 256 on one
  /// thread 1600 steps were 25 minutes (8 epochs) of running on one core after the other program
  /// had ended. A failed try costs about 4 steps at the slower count, ~1 % of 300 s.
  double max_probe_seconds = 300;
};

class ThreadTuner {
 public:
  explicit ThreadTuner(int max_threads, ThreadTunerOptions o = {})
      : max_(std::max(1, max_threads)), threads_(max_), o_(o), up_every_(o.probe_up_every), down_every_(o.window) {}

  int threads() const { return threads_; }
  int max_threads() const { return max_; }
  bool probing() const { return probe_.has_value(); }

  /// Reports one step of `batch` images that took `seconds` with threads() threads. Returns the
  /// thread count to use from the next step on when it changes, else nothing.
  std::optional<int> record(double seconds, int batch) {
    if (seconds <= 0 || batch <= 0) return std::nullopt;
    const double per_image = seconds / batch;
    if (batch != batch_) {  // a new stage: speeds per image differ between batch sizes
      batch_ = batch;
      recent_.clear();
      if (probe_) return finish_probe(false);
    }
    ++since_probe_;
    seconds_since_probe_ += seconds;
    if (probe_) {
      if (probe_->warm) {  // the first step after a change rebuilds the primitives: not timed
        probe_->warm = false;
        return std::nullopt;
      }
      probe_->times.push_back(per_image);
      if (int(probe_->times.size()) < o_.probe_steps) return std::nullopt;
      const double probed = median(probe_->times);
      note_best(threads_, probed);
      return finish_probe(probed * o_.gain < probe_->before);
    }
    recent_.push_back(per_image);
    if (int(recent_.size()) > o_.window) recent_.erase(recent_.begin());
    if (int(recent_.size()) < o_.window) return std::nullopt;
    const double now = median(recent_);
    const double best = note_best(threads_, now);
    // Fewer threads: once at the start (the machine may be shared from the first step on, when no
    // slowdown can show), then whenever the steps have become slower than the best seen.
    const bool slower = now > best * o_.slowdown || !tried_fewer_;
    const bool overdue = seconds_since_probe_ >= o_.max_probe_seconds;
    if (threads_ > 1 && slower && (since_probe_ >= down_every_ || overdue)) {
      tried_fewer_ = true;
      return start_probe(threads_ - 1, now);
    }
    if (threads_ < max_ && (since_probe_ >= up_every_ || overdue)) return start_probe(threads_ + 1, now);
    return std::nullopt;
  }

 private:
  struct Probe {
    int from;
    double before;  ///< the median per-image time at `from` just before the probe
    bool warm = true;
    std::vector<double> times;
  };

  std::optional<int> start_probe(int to, double before) {
    probe_ = Probe{threads_, before};
    threads_ = to;
    return to;
  }
  /// Ends a probe: keeps the probed count when it won, else goes back (and waits longer before
  /// trying that direction again, so a machine that stays as it is costs ever fewer probes).
  std::optional<int> finish_probe(bool won) {
    const int from = probe_->from;
    probe_.reset();
    recent_.clear();
    since_probe_ = 0;
    seconds_since_probe_ = 0;
    int& every = threads_ > from ? up_every_ : down_every_;
    if (won) {
      every = threads_ > from ? o_.probe_up_every : o_.window;
      return std::nullopt;
    }
    every = std::min(every * 2, o_.max_probe_every);
    threads_ = from;
    return from;
  }
  /// The best (lowest) per-image time seen with n threads at this batch size, updated with t.
  double note_best(int n, double t) {
    auto [it, fresh] = best_.try_emplace({n, batch_}, t);
    if (!fresh) it->second = std::min(it->second, t);
    return it->second;
  }
  static double median(std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  }

  int max_, threads_;
  ThreadTunerOptions o_;
  int up_every_, down_every_;
  int since_probe_ = 0, batch_ = 0;
  double seconds_since_probe_ = 0;  ///< of the steps reported since the last probe ended
  bool tried_fewer_ = false;
  std::vector<double> recent_;
  std::optional<Probe> probe_;
  std::map<std::pair<int, int>, double> best_;
};

}  // namespace ctnn
