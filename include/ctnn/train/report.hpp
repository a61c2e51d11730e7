#pragma once
// End-of-training report: per-class accuracy, the confusion matrix, and curves.png drawn by
// gnuplot (Debian gnuplot-nox) from metrics.csv — skipped with a warning when gnuplot is absent.
#include <fmt/core.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ctnn::train {

/// confusion[t][p]: test images of true class t predicted as p.
using Confusion = std::vector<std::vector<long>>;

inline std::string confusion_report(const Confusion& m, const std::vector<std::string>& names) {
  std::string s = "per-class test accuracy:\n";
  for (std::size_t t = 0; t < m.size(); ++t) {
    long total = 0;
    for (long v : m[t]) total += v;
    s += fmt::format("  {:>10}  {:6.2f} %  ({} images)\n", names[t], total ? 100.0 * m[t][t] / total : 0.0, total);
  }
  s += "confusion matrix (rows: true class, columns: predicted):\n            ";
  for (std::size_t p = 0; p < m.size(); ++p) s += fmt::format("{:>6.5}", names[p]);
  s += "\n";
  for (std::size_t t = 0; t < m.size(); ++t) {
    s += fmt::format("  {:>10}", names[t]);
    for (long v : m[t]) s += fmt::format("{:6}", v);
    s += "\n";
  }
  return s;
}

/// Renders <dir>/curves.png from <dir>/metrics.csv. Returns false (and says why) when it can't.
inline bool render_curves(const std::filesystem::path& dir) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    fmt::print(stderr, "warning: gnuplot not found (apt-get install gnuplot-nox): curves.png not drawn\n");
    return false;
  }
  const auto script = dir / "curves.gp";
  std::ofstream(script)
      << "set datafile separator ','\n"
         "set terminal pngcairo size 1200,450 noenhanced\n"
         "set output '"
      << (dir / "curves.png").string()
      << "'\n"
         "set multiplot layout 1,2\n"
         "set key autotitle columnhead\nset xlabel 'epoch'\nset grid\n"
         "set title 'loss'\n"
         "plot '"
      << (dir / "metrics.csv").string()
      << "' using 1:5 with linespoints title 'train loss', "
         "'' using 1:7 with linespoints title 'test loss'\n"
         "set title 'accuracy (%)'\n"
         "plot '' using 1:6 with linespoints title 'train acc', '' using 1:8 with linespoints title 'test acc'\n"
         "unset multiplot\n";
  if (std::system(("gnuplot '" + script.string() + "' 2>/dev/null").c_str()) != 0) {
    fmt::print(stderr, "warning: gnuplot failed: curves.png not drawn\n");
    return false;
  }
  return true;
}

}  // namespace ctnn::train
