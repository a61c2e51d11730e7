// A user's first ctnn program: define a small net as a type, train it a few steps on random
// data, print its summary. Exits non-zero if the loss did not go down.
#include <cstdio>
#include <random>

#include "ctnn/ctnn.hpp"

using Net = ctnn::Sequential<ctnn::Conv2d<1, 4, 3, 1, 1>, ctnn::ReLU, ctnn::MaxPool2d<2, 2>, ctnn::Flatten,
                             ctnn::Linear<64, 3>>;
#if CTNN_WITH_ONEDNN
using Backend = ctnn::cpu;
#else
using Backend = ctnn::reference;
#endif

int main() {
  std::fputs(ctnn::summary<Net, ctnn::Shape<1, 8, 8>>().c_str(), stdout);
  ctnn::Model<Net, ctnn::Shape<1, 8, 8>, Backend> model(42);
  ctnn::SGD sgd(0.1f, 0.9f);
  std::mt19937 rng(1);
  std::normal_distribution<float> noise;
  std::vector<float> x(16 * 64), dlogits(16 * 3);
  std::vector<std::int32_t> y(16);
  for (int i = 0; i < 16; ++i) {
    y[i] = i % 3;
    for (int k = 0; k < 64; ++k) x[i * 64 + k] = noise(rng) * 0.1f + (k % 3 == y[i] ? 1.f : 0.f);
  }
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    const auto r = ctnn::CrossEntropyLoss{}(model.forward(x, 16), y, 3, dlogits);
    model.backward(dlogits);
    sgd.step(model.parameters(), model.gradients());
    (step == 0 ? first : last) = r.loss;
  }
  std::printf("loss %.4f -> %.4f\n", first, last);
  return last < first ? 0 : 1;
}
