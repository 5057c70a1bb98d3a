// SPDX-License-Identifier: MIT
// libFuzzer target: arbitrary bytes -> a small data set (n <= 64, d <= 6, values including NaN, Inf,
// huge, tiny, subnormal and duplicates) and Options (K, covariance type, init, reg_covar including 0,
// max_iter, n_init, seed, tol), then fit, score_samples, predict_proba, predict, sample, bic, m_step,
// a second fit, and set_parameters with arbitrary matrices.
//
// The contract checked: no crash and no sanitizer report; every call either throws one of the
// documented types (std::invalid_argument, std::logic_error, gaussmix::NumericalError) with a message
// starting "gaussmix:", leaving the model as it was, or succeeds with finite parameters, weights
// summing to 1 (within 1e-6) and symmetric positive definite covariances of the type's shape.
// Anything else prints what broke and calls abort(), which libFuzzer reports as a crash.
//
// Build and run: fuzz/build_and_run.sh (see fuzz/README.md). Without libFuzzer (e.g. g++), define
// GAUSSMIX_FUZZ_MAIN to get a main() that replays the files given on the command line.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

namespace {

using gaussmix::CovarianceType;
using gaussmix::InitMethod;
using gaussmix::Options;

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "\ngaussmix fuzz: CONTRACT VIOLATION: %s%s%s\n", what, detail.empty() ? "" : ": ",
               detail.c_str());
  std::abort();
}

// Thrown (only with GAUSSMIX_FUZZ_SKIP_KNOWN) when an input reaches a library bug already reported:
// the input is dropped so that a run can look for new bugs.
struct KnownBug {};

// GAUSSMIX_FUZZ_VERBOSE=1 in the environment prints what an input decodes to (to reproduce a finding).
bool verbose() {
  static const bool on = std::getenv("GAUSSMIX_FUZZ_VERBOSE") != nullptr;
  return on;
}

template <class M> void print_matrix(const char* name, const M& m) {
  std::fprintf(stderr, "%s (%ld x %ld):\n", name, static_cast<long>(m.rows()), static_cast<long>(m.cols()));
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) std::fprintf(stderr, " %.17g", static_cast<double>(m(i, j)));
    std::fprintf(stderr, "\n");
  }
}

// Reads the input front to back; past its end, a fixed pattern of ordinary values, so that any
// prefix of an interesting input is still a complete test.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : static_cast<std::uint8_t>(12 + (filler_++ % 4)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(u8()) << (8 * i);
    return v;
  }
  bool exhausted() const { return pos_ >= size_; }

  // One value. Tags 0..11 are the hostile ones; 12..15 (the most common) ordinary numbers.
  double value() {
    if (exhausted()) {
      const double v = 0.5 * static_cast<double>((counter_++ * 7919) % 23) - 5.5;
      seen_.push_back(v);
      return v;
    }
    const std::uint8_t tag = u8();
    double v;
    switch (tag % 16) {
      case 0: v = std::numeric_limits<double>::quiet_NaN(); break;
      case 1: v = std::numeric_limits<double>::infinity(); break;
      case 2: v = -std::numeric_limits<double>::infinity(); break;
      case 3: v = (tag & 0x10) ? -0.0 : 0.0; break;
      case 4: v = std::numeric_limits<double>::denorm_min() * (1 + u8()); break;
      case 5: v = std::numeric_limits<double>::max() / (1 + u8()) * ((tag & 0x10) ? -1 : 1); break;
      case 6: v = std::numeric_limits<double>::min() * (1 + u8()); break;
      case 7: v = seen_.empty() ? 1.0 : seen_[u8() % seen_.size()]; break;  // a duplicate
      case 8: {  // raw bits: anything a double can be
        const std::uint64_t bits = u64();
        std::memcpy(&v, &bits, sizeof v);
        break;
      }
      case 9: v = std::ldexp(static_cast<double>(static_cast<std::int8_t>(u8())), static_cast<std::int8_t>(u8()) * 4); break;
      case 10: v = 1e8 + static_cast<std::int8_t>(u8()) * 1e-3; break;  // a large offset
      case 11: v = static_cast<double>(static_cast<std::int16_t>(u16())) * 1e-150; break;
      default: v = static_cast<double>(static_cast<std::int16_t>(u16())) / 256.0; break;
    }
    seen_.push_back(v);
    return v;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  unsigned filler_ = 0;
  unsigned counter_ = 0;
  std::vector<double> seen_;
};

// Calls f(); returns true if it returned, false if it threw a documented exception; anything else
// is a contract violation.
template <class F> bool documented(const char* call, F&& f) {
  try {
    f();
    if (verbose()) std::fprintf(stderr, "%s returned\n", call);
    return true;
  } catch (const std::exception& e) {
    const std::type_info& type = typeid(e);
    if (type != typeid(std::invalid_argument) && type != typeid(std::logic_error) &&
        type != typeid(gaussmix::NumericalError))
      fail("undocumented exception type", std::string(call) + " threw " + type.name() + ": " + e.what());
    if (std::string(e.what()).rfind("gaussmix:", 0) != 0)
      fail("message does not start with \"gaussmix:\"", std::string(call) + ": " + e.what());
    if (verbose()) std::fprintf(stderr, "%s threw %s: %s\n", call, type.name(), e.what());
    return false;
  } catch (const KnownBug&) {
    throw;
  } catch (...) {
    fail("a non-std exception", call);
  }
}

template <class M> struct Snapshot {
  typename M::Weights weights;
  typename M::Means means;
  std::vector<typename M::Matrix> covariances;
  bool fitted = false;
  explicit Snapshot(const M& model) : fitted(model.is_fitted()) {
    if (!fitted) return;
    weights = model.weights();
    means = model.means();
    covariances = model.covariances();
  }
  bool operator==(const Snapshot& o) const {
    if (fitted != o.fitted) return false;
    if (!fitted) return true;
    if (weights.size() != o.weights.size() || !(weights.array() == o.weights.array()).all()) return false;
    if (means.rows() != o.means.rows() || means.cols() != o.means.cols() || !(means.array() == o.means.array()).all())
      return false;
    for (std::size_t k = 0; k < covariances.size(); ++k)
      if (!(covariances[k].array() == o.covariances[k].array()).all()) return false;
    return covariances.size() == o.covariances.size();
  }
};

template <class M> std::string describe(const M& model) {
  std::string out = "weights:";
  char buffer[32];
  for (Eigen::Index k = 0; k < model.weights().size(); ++k) {
    std::snprintf(buffer, sizeof buffer, " %.17g", static_cast<double>(model.weights()(k)));
    out += buffer;
  }
  return out;
}

// The post-condition of every successful call that sets parameters.
template <class M> void check_parameters(const M& model, int K, Eigen::Index d, CovarianceType type, const char* after) {
  using S = typename M::Weights::Scalar;
  if (!model.is_fitted()) fail("no parameters after a successful call", after);
  if (model.n_components() != K || model.weights().size() != K) fail("wrong number of weights", after);
  if (model.n_features() != d) fail("wrong n_features", after);
  const Eigen::VectorXd w = model.weights().template cast<double>();
  if (!w.allFinite() || w.minCoeff() < 0) fail("weights not finite and >= 0", std::string(after) + ", " + describe(model));
  if (std::abs(w.sum() - 1) > 1e-6) fail("weights do not sum to 1", std::string(after) + ", " + describe(model));
  if (model.means().rows() != K || model.means().cols() != d || !model.means().allFinite())
    fail("means not K x d and finite", after);
  const Eigen::MatrixXd c0 = model.covariance(0).template cast<double>();
  for (int k = 0; k < K; ++k) {
    const Eigen::MatrixXd c = model.covariance(k).template cast<double>();
    const std::string where = std::string(after) + ", covariance " + std::to_string(k);
    if (c.rows() != d || c.cols() != d) fail("covariance not d x d", where);
    if (!c.allFinite()) fail("covariance not finite", where);
    const double scale = c.cwiseAbs().maxCoeff();
    if ((c - c.transpose()).cwiseAbs().maxCoeff() > 4 * std::numeric_limits<S>::epsilon() * scale)
      fail("covariance not symmetric", where);
    const Eigen::LLT<Eigen::MatrixXd> llt(c);
    if (llt.info() != Eigen::Success || !(llt.matrixLLT().diagonal().array() > 0).all()) {
      fail("covariance not positive definite", where);
    }
    const Eigen::MatrixXd off = c - Eigen::MatrixXd(c.diagonal().asDiagonal());
    switch (type) {
      case CovarianceType::Full: break;
      case CovarianceType::Diagonal:
        if (!off.isZero(0)) fail("Diagonal covariance with off-diagonal entries", where);
        break;
      case CovarianceType::Spherical:
        if (!off.isZero(0) || c.diagonal().minCoeff() != c.diagonal().maxCoeff())
          fail("Spherical covariance not sigma^2 I", where);
        break;
      case CovarianceType::Tied:
        if (!(c.array() == c0.array()).all()) fail("Tied covariances differ", where);
        break;
    }
  }
  // The parameters reload: a saved model can be set again (set_parameters validates them).
  M copy(model.options());
  if (!documented("set_parameters(reload)", [&] { copy.set_parameters(model.weights(), model.means(), model.covariances()); })) {
    fail("the model's own parameters are rejected by set_parameters", after);
  }
}

// Everything a fitted model offers, on data X of the model's d.
template <class M, class X> void exercise(M& model, const X& data, int K, CovarianceType type, std::uint64_t seed) {
  using S = typename M::Weights::Scalar;
  const double unit = std::is_same_v<S, float> ? 1e-4 : 1e-9;
  const Eigen::Index n = data.rows();
  documented("score_samples", [&] {
    const auto log_p = model.score_samples(data);
    if (log_p.size() != n) fail("score_samples size");
    if (log_p.array().isNaN().any()) fail("score_samples returned NaN");
    // A row scores the same alone as in a block (up to the rounding of vectorised exp and log).
    for (Eigen::Index i = 0; i < n; ++i) {
      const double alone = static_cast<double>(model.score_samples(data.row(i))(0));
      const double in_block = static_cast<double>(log_p(i));
      if (std::isfinite(alone) != std::isfinite(in_block) ||
          (std::isfinite(alone) && std::abs(alone - in_block) > unit * std::max(1.0, std::abs(alone))) ||
          (!std::isfinite(alone) && alone != in_block))
        fail("score_samples of a row differs alone and in a block",
             "row " + std::to_string(i) + ": " + std::to_string(alone) + " vs " + std::to_string(in_block));
    }
  });
  documented("predict_proba", [&] {
    const auto resp = model.predict_proba(data);
    if (resp.rows() != n || resp.cols() != K) fail("predict_proba shape");
    if (!resp.allFinite() || resp.minCoeff() < 0) fail("predict_proba not finite and >= 0");
    const Eigen::VectorXd sums = resp.template cast<double>().rowwise().sum();
    if ((sums.array() - 1).abs().maxCoeff() > unit) fail("predict_proba rows do not sum to 1");
  });
  documented("predict", [&] {
    const auto labels = model.predict(data);
    if (labels.size() != n || (n > 0 && (labels.minCoeff() < 0 || labels.maxCoeff() >= K))) fail("predict labels");
  });
  documented("score", [&] {
    if (std::isnan(static_cast<double>(model.score(data)))) fail("score returned NaN");
  });
  documented("bic", [&] {
    if (std::isnan(static_cast<double>(model.bic(data)))) fail("bic returned NaN");
    if (std::isnan(static_cast<double>(model.aic(data)))) fail("aic returned NaN");
  });
  documented("sample", [&] {
    typename M::Labels labels;
    const auto drawn = model.sample(7, seed, labels);
    if (drawn.rows() != 7 || drawn.cols() != model.n_features()) fail("sample shape");
    if (drawn.array().isNaN().any()) fail("sample returned NaN");
    // Moderate parameters must give finite samples (huge ones may overflow to inf legitimately).
    bool moderate = model.means().cwiseAbs().maxCoeff() < S(1e30);
    for (int k = 0; k < K; ++k) moderate = moderate && model.covariance(k).cwiseAbs().maxCoeff() < S(1e30);
    if (moderate && !drawn.allFinite()) fail("sample not finite for moderate parameters");
    if (labels.size() != 7 || labels.minCoeff() < 0 || labels.maxCoeff() >= K) fail("sample labels");
  });
  // The textbook pair: e_step then m_step; m_step either succeeds validly or leaves the model as it was.
  typename M::Responsibilities resp;
  if (documented("e_step", [&] { model.e_step(data, resp); })) {
    const Snapshot<M> before(model);
    if (documented("m_step", [&] { model.m_step(data, resp); }))
      check_parameters(model, K, data.cols(), type, "m_step");
    else if (!(Snapshot<M>(model) == before))
      fail("m_step threw and changed the model");
  }
}

struct Setup {
  Options options;
  int n = 0, d = 0;
  bool use_float = false, fixed_dim = false, double_into_float = false, weighted = false, refit = false,
       set_parameters = false, make_spd = false;
};

template <class M, class Input>
void run(const Setup& setup, Bytes& bytes, const Input& X) {
  const Options& options = setup.options;
  const int K = options.n_components;
  const CovarianceType type = options.covariance_type;
  M model(options);
  // Before any parameters: std::logic_error, nothing else.
  documented("predict before fit", [&] { (void)model.predict(X); });

  if (setup.set_parameters) {
    // Arbitrary matrices, optionally made symmetric positive definite-ish (A A^T + c I) to get past the
    // first checks and reach the later ones.
    Eigen::VectorXd weights(K);
    for (int k = 0; k < K; ++k) weights(k) = bytes.value();
    if (setup.make_spd && weights.allFinite() && weights.cwiseAbs().sum() > 0)
      weights = weights.cwiseAbs() / weights.cwiseAbs().sum();
    Eigen::MatrixXd means(K, setup.d);
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < setup.d; ++j) means(k, j) = bytes.value();
    std::vector<typename M::Matrix> covariances;
    for (int k = 0; k < K; ++k) {
      Eigen::MatrixXd c(setup.d, setup.d);
      for (int i = 0; i < setup.d; ++i)
        for (int j = 0; j < setup.d; ++j) c(i, j) = bytes.value();
      if (setup.make_spd) {
        if (type == CovarianceType::Diagonal || type == CovarianceType::Spherical)
          c = Eigen::MatrixXd(c.diagonal().cwiseAbs().asDiagonal());
        else
          c = c * c.transpose() + 1e-3 * Eigen::MatrixXd::Identity(setup.d, setup.d);
        if (type == CovarianceType::Spherical) c = c(0, 0) * Eigen::MatrixXd::Identity(setup.d, setup.d);
        if (type == CovarianceType::Tied && k > 0) c = covariances[0].template cast<double>();
      }
      covariances.push_back(c.template cast<typename M::Weights::Scalar>());
    }
    if (verbose()) {
      print_matrix("set_parameters weights", weights);
      print_matrix("set_parameters means", means);
      for (const auto& c : covariances) print_matrix("set_parameters covariance", c);
    }
    const Snapshot<M> before(model);
    if (documented("set_parameters", [&] { model.set_parameters(weights, means, covariances); })) {
      check_parameters(model, K, setup.d, type, "set_parameters");
      exercise(model, X, K, type, options.seed);
    } else if (!(Snapshot<M>(model) == before)) {
      fail("set_parameters threw and changed the model");
    }
    return;
  }

  bool fitted;
  if (setup.weighted) {
    Eigen::VectorXd w(setup.n);
    for (int i = 0; i < setup.n; ++i) w(i) = bytes.value();
    if (verbose()) print_matrix("sample_weight", w);
    fitted = documented("fit(X, w)", [&] { model.fit(X, w); });
  } else {
    fitted = documented("fit", [&] { model.fit(X); });
  }
  if (!fitted) {
    if (model.is_fitted()) fail("fit threw but left parameters on a model that had none");
    return;
  }
  check_parameters(model, K, setup.d, type, "fit");
  exercise(model, X, K, type, options.seed);

  if (setup.refit) {
    // A second fit (warm-started if Options say so) on data with some entries replaced: it either
    // succeeds validly or throws and leaves the model exactly as it was.
    Input Y = X;
    for (Eigen::Index i = 0; i < Y.rows(); ++i)
      if (bytes.u8() % 4 == 0) Y(i, bytes.u8() % Y.cols()) = static_cast<typename Input::Scalar>(bytes.value());
    const Snapshot<M> before(model);
    if (documented("refit", [&] { model.fit(Y); }))
      check_parameters(model, K, setup.d, type, "refit");
    else if (!(Snapshot<M>(model) == before))
      fail("refit threw and changed the model");
  }
}

template <class S, int Dim> void dispatch_scalar(const Setup& setup, Bytes& bytes, const Eigen::MatrixXd& Xd) {
  using M = gaussmix::GaussianMixture<S, Dim>;
  if (setup.double_into_float) {
    run<M>(setup, bytes, Xd);  // double data given to a float model: the model casts it
  } else {
    const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> X = Xd.cast<S>();
    run<M>(setup, bytes, X);
  }
}

void dispatch(const Setup& setup, Bytes& bytes, const Eigen::MatrixXd& X) {
  const Options& o = setup.options;
  if (verbose()) {
    std::fprintf(stderr,
                 "%s model, Dim %s, K = %d, %s, init %s, reg_covar %g, max_iter %d, n_init %d, tol %g, seed %llu, "
                 "warm_start %d, weighted %d, set_parameters %d (make_spd %d), refit %d, double data into float %d\n",
                 setup.use_float ? "float" : "double", setup.fixed_dim ? "2" : "Dynamic", o.n_components,
                 gaussmix::to_string(o.covariance_type), gaussmix::to_string(o.init_params), o.reg_covar, o.max_iter,
                 o.n_init, o.tol, static_cast<unsigned long long>(o.seed), o.warm_start, setup.weighted,
                 setup.set_parameters, setup.make_spd, setup.refit, setup.double_into_float);
    print_matrix("X", X);
  }
  if (setup.use_float) {
    if (setup.fixed_dim) dispatch_scalar<float, 2>(setup, bytes, X);
    else dispatch_scalar<float, Eigen::Dynamic>(setup, bytes, X);
  } else {
    if (setup.fixed_dim) dispatch_scalar<double, 2>(setup, bytes, X);
    else dispatch_scalar<double, Eigen::Dynamic>(setup, bytes, X);
  }
}

}  // namespace

// Input layout. Header, one byte each unless noted:
//   flags: 0x01 float model, 0x02 Dim = 2, 0x04 warm_start, 0x08 sample weights, 0x10 set_parameters
//          mode, 0x20 double data given to a float model, 0x40 a second fit on perturbed data,
//          0x80 make the set_parameters matrices SPD first;
//   K - 1 (mod 5); covariance type (mod 4); init method (mod 4); reg_covar index (mod 8);
//   max_iter - 1 (mod 8); n_init - 1 (mod 3); tol index (mod 8); seed (2 bytes, little endian);
//   n - 1 (mod 64); d - 1 (mod 6).
// Then n x d values row by row, then n sample weights (flag 0x08), or K weights, K x d means and K
// d x d covariances (flag 0x10); each value is a tag byte (see Bytes::value) and its payload. Past the
// end of the input, ordinary values follow a fixed pattern.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 12) return 0;
  Bytes bytes(data, size);
  Setup setup;
  const std::uint8_t flags = bytes.u8();
  setup.use_float = flags & 0x01;
  setup.fixed_dim = flags & 0x02;
  setup.options.warm_start = flags & 0x04;
  setup.weighted = flags & 0x08;
  setup.set_parameters = flags & 0x10;
  setup.double_into_float = setup.use_float && (flags & 0x20);
  setup.refit = flags & 0x40;
  setup.make_spd = flags & 0x80;
  Options& o = setup.options;
  o.n_components = 1 + bytes.u8() % 5;
  o.covariance_type = static_cast<CovarianceType>(bytes.u8() % 4);
  o.init_params = static_cast<InitMethod>(bytes.u8() % 4);
  static const double reg_covars[] = {0.0, 1e-6, 1e-300, 1e-12, 1e-3, 1.0, 1e12, 1e300};
  o.reg_covar = reg_covars[bytes.u8() % 8];
  o.max_iter = 1 + bytes.u8() % 8;
  o.n_init = 1 + bytes.u8() % 3;
  static const double tols[] = {0.0, 1e-3, 1e-10, 1.0, 1e300, 1e-300, 1e-6, 0.5};
  o.tol = tols[bytes.u8() % 8];
  o.seed = bytes.u16();
  setup.n = 1 + bytes.u8() % 64;
  setup.d = 1 + bytes.u8() % 6;
  if (setup.fixed_dim) setup.d = 2;

  Eigen::MatrixXd X(setup.n, setup.d);
  for (int i = 0; i < setup.n; ++i)
    for (int j = 0; j < setup.d; ++j) X(i, j) = bytes.value();

  try {
    dispatch(setup, bytes, X);
  } catch (const KnownBug&) {
    if (verbose()) std::fprintf(stderr, "input dropped: it reaches a known bug (GAUSSMIX_FUZZ_SKIP_KNOWN)\n");
  }
  return 0;
}

#ifdef GAUSSMIX_FUZZ_MAIN
// Replays inputs without libFuzzer: fit_fuzzer FILE...
#include <fstream>
#include <iterator>
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", argv[i], bytes.size());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  return 0;
}
#endif
