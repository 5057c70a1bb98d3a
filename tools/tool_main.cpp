// SPDX-License-Identifier: MIT
// The main() of each command-line tool: GAUSSMIX_TOOL_MAIN names its function (fit_main, ...).
#include "tool_mains.hpp"

int main(int argc, char** argv) { return gaussmix_tools::GAUSSMIX_TOOL_MAIN(argc, argv); }
