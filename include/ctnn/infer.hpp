#pragma once
// Inference: load_weights (a checkpoint's weights without its optimizer, infer/weights.hpp) and
// predict (one image in evaluation mode, infer/predict.hpp).
#include "ctnn/infer/predict.hpp"
#include "ctnn/infer/weights.hpp"
