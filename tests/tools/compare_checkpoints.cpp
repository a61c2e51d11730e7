// compare_checkpoints: checks that safetensors checkpoints load, and compares two of them.
//   compare_checkpoints A.safetensors                 # loads A (ctnn::io); exit 0 if it parses
//   compare_checkpoints A.safetensors B.safetensors [TOL]
//       same tensor names, dtypes and shapes; every F32 value within TOL (default 1e-6, absolute);
//       other dtypes byte-identical; the metadata ctnn.architecture, ctnn.epochs_done, ctnn.step
//       and optimizer.kind equal. Prints the largest difference and where it is.
// Exit codes: 0 ok, 1 mismatch or unreadable/corrupt file (message on stderr), 2 usage.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctnn/io/safetensors.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s A.safetensors [B.safetensors [TOL]]\n", argv[0]);
    return 2;
  }
  double tol = 1e-6;
  if (argc == 4) {
    char* end = nullptr;
    tol = std::strtod(argv[3], &end);
    if (!end || *end || !(tol >= 0)) {
      std::fprintf(stderr, "compare_checkpoints: TOL must be a number >= 0, got '%s'\n", argv[3]);
      return 2;
    }
  }
  try {
    const auto a = ctnn::io::load_safetensors(argv[1]);
    auto meta = [](const ctnn::io::SafetensorsFile& f, const std::string& k) {
      const auto it = f.metadata.find(k);
      return it == f.metadata.end() ? std::string("<none>") : it->second;
    };
    if (argc == 2) {
      std::printf("%s: ok: %zu tensors, epochs_done=%s step=%s\n", argv[1], a.tensors.size(),
                  meta(a, "ctnn.epochs_done").c_str(), meta(a, "ctnn.step").c_str());
      return 0;
    }
    const auto b = ctnn::io::load_safetensors(argv[2]);
    int bad = 0;
    auto fail = [&](const std::string& msg) {
      std::fprintf(stderr, "compare_checkpoints: %s\n", msg.c_str());
      ++bad;
    };
    for (const char* k : {"ctnn.architecture", "ctnn.epochs_done", "ctnn.step", "optimizer.kind"})
      if (meta(a, k) != meta(b, k))
        fail(std::string("metadata '") + k + "' differs: " + meta(a, k) + " vs " + meta(b, k));
    if (a.tensors.size() != b.tensors.size())
      fail("tensor count differs: " + std::to_string(a.tensors.size()) + " vs " + std::to_string(b.tensors.size()));
    double worst = 0;
    std::string worst_at = "-";
    for (const auto& ta : a.tensors) {
      const auto* tb = b.find(ta.name);
      if (!tb) {
        fail("tensor '" + ta.name + "' missing in " + argv[2]);
        continue;
      }
      if (ta.dtype != tb->dtype || ta.shape != tb->shape) {
        fail("tensor '" + ta.name + "': dtype or shape differs");
        continue;
      }
      if (ta.dtype != "F32") {
        if (ta.data != tb->data) fail("tensor '" + ta.name + "' (" + ta.dtype + ") differs");
        continue;
      }
      const auto va = ta.to_floats(), vb = tb->to_floats();
      for (std::size_t i = 0; i < va.size(); ++i) {
        const double d = std::fabs(double(va[i]) - double(vb[i]));
        if (std::isnan(d) || d > worst) {
          worst = std::isnan(d) ? INFINITY : d;
          worst_at = ta.name + "[" + std::to_string(i) + "]";
        }
      }
    }
    std::printf("max |a-b| = %.3g at %s over %zu tensors (tol %.3g)\n", worst, worst_at.c_str(), a.tensors.size(), tol);
    if (worst > tol) fail("difference above tolerance");
    return bad ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare_checkpoints: %s\n", e.what());
    return 1;
  }
}
