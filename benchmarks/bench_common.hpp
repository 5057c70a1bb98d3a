// SPDX-License-Identifier: MIT
// Shared by the benchmark drivers (not part of the library): the workload file format, a wall
// clock, medians, a bit-exact hash and a tiny JSON writer. No Eigen, Armadillo or OpenCV here.
//
// Workload file (little endian), written once by make_data and read by every peer:
//   char magic[8] = "GMXBENCH"; uint64 N, d, K, diagonal (0 = full, 1 = diagonal);
//   double X[N][d]      one sample per row (row-major; the same bytes are d x N column-major)
//   double weights[K]   initial weights
//   double means[K][d]  initial means
//   double covs[K][d][d] initial covariances (dense, also for diagonal workloads)
//
// Parameter file (time to solution, "same start": scikit-learn's initial parameters after its own
// k-means init, written by bench_sklearn_tts.py and read by bench_gaussmix_tts):
//   char magic[8] = "GMXPARAM"; uint64 d, K, diagonal; double weights[K], means[K][d], covs[K][d][d]
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

struct Workload {
  std::uint64_t n = 0, d = 0, k = 0;
  bool diagonal = false;
  std::vector<double> x;        // n * d, row-major
  std::vector<double> weights;  // k
  std::vector<double> means;    // k * d, row-major
  std::vector<double> covs;     // k * d * d
};

inline constexpr char kMagic[8] = {'G', 'M', 'X', 'B', 'E', 'N', 'C', 'H'};

inline void write_workload(const std::string& path, const Workload& w) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  const std::uint64_t header[4] = {w.n, w.d, w.k, w.diagonal ? 1u : 0u};
  out.write(kMagic, 8);
  out.write(reinterpret_cast<const char*>(header), sizeof header);
  auto put = [&](const std::vector<double>& v) {
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
  };
  put(w.x);
  put(w.weights);
  put(w.means);
  put(w.covs);
  if (!out) throw std::runtime_error("error writing " + path);
}

// Reads a workload; rows > 0 keeps only the first `rows` samples (a reduced workload).
inline Workload read_workload(const std::string& path, std::uint64_t rows = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  char magic[8];
  std::uint64_t header[4];
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(header), sizeof header);
  if (!in || std::memcmp(magic, kMagic, 8) != 0) throw std::runtime_error(path + ": not a workload file");
  Workload w;
  w.n = header[0];
  w.d = header[1];
  w.k = header[2];
  w.diagonal = header[3] != 0;
  auto get = [&](std::vector<double>& v, std::uint64_t count) {
    v.resize(count);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(double)));
    if (!in) throw std::runtime_error(path + ": truncated");
  };
  get(w.x, w.n * w.d);
  get(w.weights, w.k);
  get(w.means, w.k * w.d);
  get(w.covs, w.k * w.d * w.d);
  if (rows > 0 && rows < w.n) {
    w.n = rows;
    w.x.resize(rows * w.d);
    w.x.shrink_to_fit();
  }
  return w;
}

struct Parameters {
  std::uint64_t d = 0, k = 0;
  bool diagonal = false;
  std::vector<double> weights, means, covs;  // k; k * d row-major; k * d * d (dense)
};

inline Parameters read_parameters(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  char magic[8];
  std::uint64_t header[3];
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(header), sizeof header);
  if (!in || std::memcmp(magic, "GMXPARAM", 8) != 0) throw std::runtime_error(path + ": not a parameter file");
  Parameters p;
  p.d = header[0];
  p.k = header[1];
  p.diagonal = header[2] != 0;
  auto get = [&](std::vector<double>& v, std::uint64_t count) {
    v.resize(count);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(double)));
    if (!in) throw std::runtime_error(path + ": truncated");
  };
  get(p.weights, p.k);
  get(p.means, p.k * p.d);
  get(p.covs, p.k * p.d * p.d);
  return p;
}

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// This thread's CPU time: on a shared machine, less disturbed by the load than the wall clock.
inline double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// FNV-1a over the bytes of some doubles: equal hashes <=> bit-identical results (for our purpose).
struct Hash {
  std::uint64_t h = 1469598103934665603ull;
  void add(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void add(double v) { add(&v, sizeof v); }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

// Minimal JSON object writer: one line per result, read by run_benchmarks.py.
class Json {
 public:
  Json& add(const std::string& key, const std::string& value) {
    field(key) << '"' << value << '"';
    return *this;
  }
  Json& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  Json& add(const std::string& key, double value) {
    field(key) << number(value);
    return *this;
  }
  Json& add(const std::string& key, long long value) {
    field(key) << value;
    return *this;
  }
  Json& add(const std::string& key, int value) { return add(key, static_cast<long long>(value)); }
  Json& add(const std::string& key, std::uint64_t value) { return add(key, static_cast<long long>(value)); }
  Json& add(const std::string& key, bool value) {
    field(key) << (value ? "true" : "false");
    return *this;
  }
  Json& add(const std::string& key, const std::vector<double>& values) {
    auto& out = field(key);
    out << '[';
    for (std::size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << number(values[i]);
    out << ']';
    return *this;
  }
  std::string str() const { return "{" + body_.str() + "}"; }
  void print() const { std::printf("RESULT %s\n", str().c_str()); std::fflush(stdout); }

 private:
  std::ostringstream& field(const std::string& key) {
    if (!first_) body_ << ',';
    first_ = false;
    body_ << '"' << key << "\":";
    return body_;
  }
  static std::string number(double v) {
    if (!(v == v) || v > 1.7e308 || v < -1.7e308) return "null";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }
  std::ostringstream body_;
  bool first_ = true;
};

// Command line: --key value pairs after the positional workload path.
struct Args {
  std::string path;
  std::vector<std::pair<std::string, std::string>> kv;
  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) == 0 && i + 1 < argc) {
        kv.emplace_back(a.substr(2), argv[++i]);
      } else {
        path = a;
      }
    }
  }
  std::string get(const std::string& key, const std::string& fallback) const {
    for (const auto& [k, v] : kv)
      if (k == key) return v;
    return fallback;
  }
  long long get_int(const std::string& key, long long fallback) const {
    const std::string v = get(key, "");
    return v.empty() ? fallback : std::atoll(v.c_str());
  }
};

}  // namespace bench
