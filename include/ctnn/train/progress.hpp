#pragma once
// The progress line that train::Progress (callbacks.hpp) draws while a run goes: one live line
// (epoch, batch, loss, images/s, ETA) redrawn in place when stdout is a terminal; nothing per
// batch otherwise (logs get one line per epoch).
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace ctnn::train {

inline std::string format_duration(double seconds) {
  const long s = long(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

class ProgressLine {
 public:
  explicit ProgressLine(bool live = isatty(fileno(stdout))) : live_(live) {}
  bool live() const { return live_; }
  /// Redraws the line at most 4 times a second.
  void update(int epoch, int epochs, std::size_t batch, std::size_t batches, double loss, double images_per_s,
              double eta_s) {
    if (!live_) return;
    const auto now = std::chrono::steady_clock::now();
    if (batch + 1 < batches && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    fmt::print("\r\033[Kepoch {}/{}  batch {}/{}  loss {:.4f}  {:.0f} img/s  ETA {}", epoch, epochs, batch + 1, batches,
               loss, images_per_s, format_duration(eta_s));
    std::fflush(stdout);
  }
  void clear() {
    if (live_) fmt::print("\r\033[K");
  }

 private:
  bool live_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace ctnn::train
