// SPDX-License-Identifier: MIT
// The command-line tools' entry points. Their code compiles once, as one translation unit
// (tools/CMakeLists.txt); each executable is tool_main.cpp calling one of these.
#pragma once

namespace gaussmix_tools {

int fit_main(int argc, char** argv);      // gaussmix-fit (gaussmix_fit.cpp)
int predict_main(int argc, char** argv);  // gaussmix-predict (gaussmix_predict.cpp)
int sample_main(int argc, char** argv);   // gaussmix-sample (gaussmix_sample.cpp)

}  // namespace gaussmix_tools
