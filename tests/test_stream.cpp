// SPDX-License-Identifier: MIT
// fit_source over row sources (stream.hpp): block sizes do not change the fit, a streamed fit equals
// the in-memory fit, binary files of float32 and float64 rows, the mergeable row sample, and the
// errors for bad files and misbehaving sources.

#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <gaussmix/gaussmix.hpp>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_stream {

namespace {

using gaussmix::CovarianceType;
using gaussmix::Options;

constexpr double kRelative = 1e-12;

template <class Body>
void for_each_covariance_type(Body&& body) {
  SECTION("Full") { body(CovarianceType::Full); }
  SECTION("Diagonal") { body(CovarianceType::Diagonal); }
  SECTION("Spherical") { body(CovarianceType::Spherical); }
  SECTION("Tied") { body(CovarianceType::Tied); }
}

// n rows drawn from a fixed 3-component mixture in d = 3, offset from the origin.
Eigen::MatrixXd mixture_data(Eigen::Index n, std::uint64_t seed) {
  Options o;
  o.n_components = 3;
  gaussmix::GaussianMixtureXd truth(o);
  Eigen::MatrixXd means(3, 3);
  means << 0, 0, 0, 4, 1, -2, -3, 3, 1;
  means.array() += 10.0;
  std::vector<Eigen::MatrixXd> covariances;
  for (int k = 0; k < 3; ++k) {
    Eigen::MatrixXd L = Eigen::MatrixXd::Identity(3, 3) * (0.6 + 0.2 * k);
    L(1, 0) = 0.3;
    L(2, 1) = -0.2 * k;
    covariances.push_back(L * L.transpose());
  }
  truth.set_parameters(Eigen::Vector3d(0.5, 0.3, 0.2), means, covariances);
  return truth.sample(n, seed);
}

// A covariance of `type` made from a dense one: what set_parameters accepts for that type.
Eigen::MatrixXd shaped(const Eigen::MatrixXd& c, CovarianceType type, const Eigen::MatrixXd& first) {
  switch (type) {
    case CovarianceType::Full:
      return c;
    case CovarianceType::Tied:
      return first;
    case CovarianceType::Diagonal:
      return c.diagonal().asDiagonal();
    case CovarianceType::Spherical:
      return c.diagonal().mean() * Eigen::MatrixXd::Identity(c.rows(), c.cols());
  }
  return c;
}

// Deliberately rough starting parameters for warm starts.
template <class Model>
void set_start(Model& model, CovarianceType type, int d) {
  using Matrix = typename Model::Matrix;
  Eigen::MatrixXd means(3, d);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < d; ++j) means(k, j) = 10.0 + 1.5 * k - 0.5 * j;
  const Eigen::MatrixXd first = 2.0 * Eigen::MatrixXd::Identity(d, d) + 0.1 * Eigen::MatrixXd::Ones(d, d);
  std::vector<Matrix> covariances;
  for (int k = 0; k < 3; ++k) {
    const Eigen::MatrixXd c = (1.0 + 0.5 * k) * Eigen::MatrixXd::Identity(d, d) + 0.2 * Eigen::MatrixXd::Ones(d, d);
    covariances.push_back(shaped(c, type, first).template cast<typename Model::Matrix::Scalar>());
  }
  model.set_parameters(Eigen::Vector3d(0.4, 0.35, 0.25), means, covariances);
}

template <class A, class B>
double relative_difference(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
  const double scale = std::max(b.template cast<double>().cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
  return (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff() / scale;
}

// Every parameter of `a` equals that of `b` within `tolerance` relative (per matrix).
template <class M1, class M2>
void require_same_parameters(const M1& a, const M2& b, double tolerance) {
  REQUIRE(a.is_fitted());
  REQUIRE(b.is_fitted());
  CHECK(relative_difference(a.weights(), b.weights()) <= tolerance);
  CHECK(relative_difference(a.means(), b.means()) <= tolerance);
  for (int k = 0; k < a.n_components(); ++k) {
    INFO("component " << k);
    CHECK(relative_difference(a.covariance(k), b.covariance(k)) <= tolerance);
  }
}

template <class M1, class M2>
bool identical_parameters(const M1& a, const M2& b) {
  bool same = a.weights() == b.weights() && a.means() == b.means();
  for (int k = 0; k < a.n_components(); ++k) same = same && a.covariance(k) == b.covariance(k);
  return same;
}

Options options_for(CovarianceType type) {
  Options o;
  o.n_components = 3;
  o.covariance_type = type;
  o.max_iter = 30;
  o.tol = 1e-10;
  o.seed = 7;
  return o;
}

// A file in the temp directory, removed when the test ends.
struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& tag)
      : path(std::filesystem::temp_directory_path() /
             ("gaussmix_test_stream_" + tag + "_" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {}
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  std::string name() const { return path.string(); }
};

// Writes X's rows as raw values of type T, row after row.
template <typename T, class D>
void write_rows(const std::string& path, const Eigen::MatrixBase<D>& X) {
  const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = X.template cast<T>();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(rows.data()), static_cast<std::streamsize>(rows.size() * sizeof(T)));
  REQUIRE(out.good());
}

template <class Exception, class Call>
void require_throws(Call&& call, std::initializer_list<const char*> parts) {
  try {
    call();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    INFO("what(): " << what);
    CHECK(typeid(e) == typeid(Exception));
    CHECK(what.rfind("gaussmix:", 0) == 0);
    for (const char* part : parts) {
      INFO("expected the message to contain \"" << part << "\"");
      CHECK(what.find(part) != std::string::npos);
    }
    return;
  }
  FAIL("did not throw");
}

}  // namespace

TEST_CASE("fit_source: the source's block sizes do not change the fit (bit-identical)", "[stream]") {
  const Eigen::MatrixXd X = mixture_data(20000, 11);  // more rows than the reservoir: the sample matters
  for_each_covariance_type([&](CovarianceType type) {
    gaussmix::GaussianMixtureXd whole(options_for(type));
    const auto reference = gaussmix::fit_source(whole, gaussmix::MatrixSource(X, X.rows()));
    CHECK(reference.n_iter > 2);
    for (Eigen::Index block : {Eigen::Index{1}, Eigen::Index{7}, Eigen::Index{1000}}) {
      INFO("block rows " << block);
      gaussmix::GaussianMixtureXd blocked(options_for(type));
      const auto result = gaussmix::fit_source(blocked, gaussmix::MatrixSource(X, block));
      require_same_parameters(blocked, whole, kRelative);
      CHECK(identical_parameters(blocked, whole));
      CHECK(result.n_iter == reference.n_iter);
      CHECK(result.lower_bound == reference.lower_bound);
    }
  });
}

TEST_CASE("fit_source with a warm start equals GaussianMixture::fit from the same parameters", "[stream]") {
  const Eigen::MatrixXd X = mixture_data(5000, 3);
  for_each_covariance_type([&](CovarianceType type) {
    Options o = options_for(type);
    o.warm_start = true;
    SECTION("double, Eigen::Dynamic") {
      gaussmix::GaussianMixtureXd streamed(o), in_memory(o);
      set_start(streamed, type, 3);
      set_start(in_memory, type, 3);
      const auto a = gaussmix::fit_source(streamed, gaussmix::MatrixSource(X, 333));
      const auto b = in_memory.fit(X);
      require_same_parameters(streamed, in_memory, kRelative);
      CHECK(a.n_iter == b.n_iter);
      CHECK(std::abs(a.lower_bound - b.lower_bound) <= kRelative * std::abs(b.lower_bound));
    }
    SECTION("double, Dim = 3, row-major Map") {
      const Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor> R = X;
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>> map(R.data(), R.rows(), 3);
      gaussmix::GaussianMixture3d streamed(o), in_memory(o);
      set_start(streamed, type, 3);
      set_start(in_memory, type, 3);
      gaussmix::fit_source(streamed, gaussmix::MatrixSource(map, 500));
      in_memory.fit(X);
      require_same_parameters(streamed, in_memory, kRelative);
    }
    SECTION("float") {
      const Eigen::MatrixXf Xf = X.cast<float>();
      gaussmix::GaussianMixtureXf streamed(o), in_memory(o);
      set_start(streamed, type, 3);
      set_start(in_memory, type, 3);
      gaussmix::fit_source(streamed, gaussmix::MatrixSource(Xf, 256));
      in_memory.fit(Xf);
      require_same_parameters(streamed, in_memory, 1e-4);
    }
  });
}

TEST_CASE("fit_source on data no larger than the reservoir starts exactly as fit does", "[stream]") {
  const Eigen::MatrixXd X = mixture_data(3000, 5);
  for_each_covariance_type([&](CovarianceType type) {
    for (auto init : {gaussmix::InitMethod::KMeans, gaussmix::InitMethod::KMeansPlusPlus,
                      gaussmix::InitMethod::RandomFromData, gaussmix::InitMethod::Random}) {
      INFO("init " << gaussmix::to_string(init));
      Options o = options_for(type);
      o.init_params = init;
      o.n_init = 2;
      gaussmix::GaussianMixtureXd streamed(o), in_memory(o);
      const auto a = gaussmix::fit_source(streamed, gaussmix::MatrixSource(X, 100));
      const auto b = in_memory.fit(X);
      require_same_parameters(streamed, in_memory, kRelative);
      CHECK(a.n_iter == b.n_iter);
    }
  });
}

TEST_CASE("fit_source over a binary file equals the in-memory fit, float64 and float32 files", "[stream]") {
  const Eigen::MatrixXd X = mixture_data(4000, 9);
  for_each_covariance_type([&](CovarianceType type) {
    Options o = options_for(type);
    SECTION("float64 file, double model, cold start") {
      TempFile file("f64");
      write_rows<double>(file.name(), X);
      gaussmix::BinaryFileSource<double> source(file.name(), 3);
      source.set_buffer_rows(77);  // many short reads, blocks across the E-step's blocks
      CHECK(source.n_rows() == X.rows());
      gaussmix::GaussianMixtureXd streamed(o), in_memory(o);
      gaussmix::fit_source(streamed, source);
      in_memory.fit(X);
      require_same_parameters(streamed, in_memory, kRelative);
    }
    SECTION("float64 file, warm start") {
      TempFile file("f64warm");
      write_rows<double>(file.name(), X);
      o.warm_start = true;
      gaussmix::GaussianMixtureXd streamed(o), in_memory(o);
      set_start(streamed, type, 3);
      set_start(in_memory, type, 3);
      gaussmix::fit_source(streamed, gaussmix::BinaryFileSource<double>(file.name(), 3));
      in_memory.fit(X);
      require_same_parameters(streamed, in_memory, kRelative);
    }
    SECTION("float32 file, double model") {
      TempFile file("f32");
      write_rows<float>(file.name(), X);
      const Eigen::MatrixXd rounded = X.cast<float>().cast<double>();
      gaussmix::GaussianMixtureXd streamed(o), in_memory(o);
      gaussmix::fit_source(streamed, gaussmix::BinaryFileSource<float>(file.name(), 3));
      in_memory.fit(rounded);
      require_same_parameters(streamed, in_memory, kRelative);
    }
    SECTION("float32 file, float model") {
      TempFile file("f32f");
      write_rows<float>(file.name(), X);
      const Eigen::MatrixXf Xf = X.cast<float>();
      o.warm_start = true;
      gaussmix::GaussianMixtureXf streamed(o), in_memory(o);
      set_start(streamed, type, 3);
      set_start(in_memory, type, 3);
      gaussmix::BinaryFileSource<float> source(file.name(), 3);
      source.set_buffer_rows(1000);
      gaussmix::fit_source(streamed, source);
      in_memory.fit(Xf);
      require_same_parameters(streamed, in_memory, 1e-4);
    }
  });
}

TEST_CASE("BinaryFileSource reads rows, slices and parts exactly", "[stream]") {
  const Eigen::MatrixXd X = mixture_data(1003, 2);
  TempFile file("slices");
  write_rows<double>(file.name(), X);
  auto read_all = [](auto& source) {
    Eigen::MatrixXd out(0, source.n_features());
    source.rewind();
    for (;;) {
      const auto block = source.next_block();
      if (block.rows() == 0) break;
      out.conservativeResize(out.rows() + block.rows(), Eigen::NoChange);
      out.bottomRows(block.rows()) = block.template cast<double>();
    }
    return out;
  };
  gaussmix::BinaryFileSource<double> whole(file.name(), 3);
  whole.set_buffer_rows(64);
  CHECK(read_all(whole) == X);
  CHECK(read_all(whole) == X);  // a second pass after rewind
  gaussmix::BinaryFileSource<double> slice(file.name(), 3, 100, 250);
  CHECK(slice.first_row() == 100);
  CHECK(read_all(slice) == X.middleRows(100, 250));
  for (int parts : {1, 3, 4, 7}) {
    Eigen::Index next = 0;
    for (int part = 0; part < parts; ++part) {
      auto source = gaussmix::BinaryFileSource<double>::part(file.name(), 3, part, parts);
      CHECK(source.first_row() == next);
      CHECK(source.n_rows() == (part + 1) * X.rows() / parts - part * X.rows() / parts);
      CHECK(read_all(source) == X.middleRows(next, source.n_rows()));
      next += source.n_rows();
    }
    CHECK(next == X.rows());
  }
}

TEST_CASE("RowSample: a uniform sample that merges exactly across shards", "[stream]") {
  const Eigen::MatrixXd X = mixture_data(5000, 4);
  const std::uint64_t seed = gaussmix::detail::sample_seed(42);
  gaussmix::RowSample whole(300, 3, seed);
  for (Eigen::Index i = 0; i < X.rows(); ++i) whole.offer(static_cast<std::uint64_t>(i), X.row(i));
  REQUIRE(whole.size() == 300);

  // Three shards sampled apart, then merged by key: the same rows as the whole.
  gaussmix::RowSample merged(300, 3, seed);
  for (Eigen::Index start : {Eigen::Index{0}, Eigen::Index{1234}, Eigen::Index{4000}}) {
    const Eigen::Index end = start == 0 ? 1234 : start == 1234 ? 4000 : X.rows();
    gaussmix::RowSample shard(300, 3, seed);
    for (Eigen::Index i = start; i < end; ++i) shard.offer(static_cast<std::uint64_t>(i), X.row(i));
    for (const auto& e : shard.entries([](const auto&a, const auto&b) { return a.key < b.key; }))
      merged.offer_keyed(e.key, e.row, shard.values(e));
  }
  CHECK(merged.rows_in_order<double>() == whole.rows_in_order<double>());

  // Distinct rows, each a row of X, spread over the whole range.
  std::set<std::uint64_t> rows;
  for (const auto& e : whole.entries([](const auto&a, const auto&b) { return a.row < b.row; })) {
    rows.insert(e.row);
    CHECK(Eigen::Map<const Eigen::RowVectorXd>(whole.values(e), 3) == X.row(static_cast<Eigen::Index>(e.row)));
  }
  CHECK(rows.size() == 300);
  const auto in_first_half = std::distance(rows.begin(), rows.lower_bound(2500));
  CHECK(in_first_half > 110);  // binomial(300, 1/2): 150 +- 8.7
  CHECK(in_first_half < 190);

  // Fewer rows than the capacity: all of them, in order.
  gaussmix::RowSample all(10000, 3, seed);
  for (Eigen::Index i = 0; i < 50; ++i) all.offer(static_cast<std::uint64_t>(i), X.row(i));
  CHECK(all.rows_in_order<double>() == X.topRows(50));
}

TEST_CASE("BinaryFileSource and fit_source: clear errors for bad files and bad data", "[stream][errors]") {
  const Eigen::MatrixXd X = mixture_data(200, 6);
  Options o = options_for(CovarianceType::Full);

  SECTION("missing file") {
    const std::string path = (std::filesystem::temp_directory_path() / "gaussmix_no_such_file.f64").string();
    require_throws<std::runtime_error>([&] { gaussmix::BinaryFileSource<double>(path, 3); },
                                       {"BinaryFileSource", "gaussmix_no_such_file.f64", "no such file"});
  }
  SECTION("a directory") {
    require_throws<std::runtime_error>(
        [&] { gaussmix::BinaryFileSource<double>(std::filesystem::temp_directory_path().string(), 3); }, {"directory"});
  }
  SECTION("size not a multiple of the row size") {
    TempFile file("ragged");
    write_rows<double>(file.name(), X);
    {
      std::ofstream out(file.name(), std::ios::binary | std::ios::app);
      out.write("\0\0\0\0", 4);
    }
    require_throws<std::invalid_argument>([&] { gaussmix::BinaryFileSource<double>(file.name(), 3); },
                                          {"4804 bytes", "not a multiple of the row size", "24 bytes"});
    // The right size read as the wrong type or d is caught the same way.
    TempFile f32("ragged32");
    write_rows<float>(f32.name(), X.topRows(7));  // 84 bytes
    require_throws<std::invalid_argument>([&] { gaussmix::BinaryFileSource<double>(f32.name(), 3); },
                                          {"84 bytes", "float32/float64"});
  }
  SECTION("bad arguments") {
    TempFile file("args");
    write_rows<double>(file.name(), X);
    require_throws<std::invalid_argument>([&] { gaussmix::BinaryFileSource<double>(file.name(), 0); },
                                          {"n_features must be >= 1"});
    require_throws<std::invalid_argument>([&] { gaussmix::BinaryFileSource<double>(file.name(), 3, 150, 51); },
                                          {"rows [150, 201) are outside", "200 rows"});
    require_throws<std::invalid_argument>([&] { gaussmix::BinaryFileSource<double>::part(file.name(), 3, 3, 3); },
                                          {"part 3 of 3"});
    gaussmix::BinaryFileSource<double> source(file.name(), 3);
    require_throws<std::invalid_argument>([&] { source.set_buffer_rows(0); }, {"buffer_rows must be >= 1"});
  }
  SECTION("NaN and Inf name the row of the file") {
    for (double bad : {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::infinity()}) {
      Eigen::MatrixXd Y = X;
      Y(137, 2) = bad;
      TempFile file("nan");
      write_rows<double>(file.name(), Y);
      gaussmix::GaussianMixtureXd model(o);
      gaussmix::BinaryFileSource<double> source(file.name(), 3);
      source.set_buffer_rows(50);
      require_throws<std::invalid_argument>([&] { gaussmix::fit_source(model, source); },
                                            {"row 137 of", file.name().c_str(), "column 2", "NaN or Inf"});
      CHECK_FALSE(model.is_fitted());
      // A slice names the row of the file, not of the slice.
      gaussmix::BinaryFileSource<double> slice(file.name(), 3, 100, 100);
      require_throws<std::invalid_argument>([&] { gaussmix::fit_source(model, slice); }, {"row 137 of"});
    }
  }
  SECTION("NaN in a matrix source, fewer rows than components, wrong d") {
    Eigen::MatrixXd Y = X;
    Y(42, 0) = std::numeric_limits<double>::quiet_NaN();
    gaussmix::GaussianMixtureXd model(o);
    require_throws<std::invalid_argument>([&] { gaussmix::fit_source(model, gaussmix::MatrixSource(Y, 10)); },
                                          {"fit_source", "row 42", "not finite"});
    require_throws<std::invalid_argument>(
        [&] { gaussmix::fit_source(model, gaussmix::MatrixSource(X.topRows(2), 10)); },
        {"2 rows, fewer than n_components = 3"});
    gaussmix::GaussianMixture2d model2(o);
    require_throws<std::invalid_argument>([&] { gaussmix::fit_source(model2, gaussmix::MatrixSource(X)); },
                                          {"3 features but the model's Dim is 2"});
    gaussmix::StreamOptions small;
    small.reservoir_size = 2;
    require_throws<std::invalid_argument>([&] { gaussmix::fit_source(model, gaussmix::MatrixSource(X), small); },
                                          {"StreamOptions::reservoir_size must be >= n_components = 3, got 2"});
    require_throws<std::invalid_argument>([&] { gaussmix::MatrixSource(X, 0); }, {"block_rows must be >= 1"});
    CHECK_FALSE(model.is_fitted());
  }
  SECTION("a warm start keeps the model unchanged when the source is bad") {
    o.warm_start = true;
    gaussmix::GaussianMixtureXd model(o);
    set_start(model, CovarianceType::Full, 3);
    const auto means = model.means();
    Eigen::MatrixXd Y = X;
    Y(199, 1) = std::numeric_limits<double>::infinity();
    require_throws<std::invalid_argument>([&] { gaussmix::fit_source(model, gaussmix::MatrixSource(Y, 64)); },
                                          {"row 199"});
    CHECK(model.means() == means);
    const Eigen::MatrixXd four = Eigen::MatrixXd::Ones(10, 4);
    require_throws<std::invalid_argument>([&] { gaussmix::fit_source(model, gaussmix::MatrixSource(four)); },
                                          {"4 features but the model has 3"});
  }
}

namespace {
// A source that gives one row fewer on every pass after the first: not a valid source.
struct ShrinkingSource {
  const Eigen::MatrixXd* X;
  Eigen::Index limit;
  Eigen::Index position = 0;
  int passes = 0;
  Eigen::Index n_features() const { return X->cols(); }
  void rewind() {
    position = 0;
    if (passes++ > 0) --limit;
  }
  auto next_block() {
    const Eigen::Index rows = std::min<Eigen::Index>(100, limit - position);
    position += rows;
    return X->middleRows(position - rows, rows);
  }
};
}  // namespace

TEST_CASE("fit_source refuses a source whose rows change between passes, a source needs no n_rows", "[stream]") {
  const Eigen::MatrixXd X = mixture_data(1000, 8);
  gaussmix::GaussianMixtureXd model(options_for(CovarianceType::Diagonal));
  require_throws<std::invalid_argument>(
      [&] {
        gaussmix::fit_source(model, ShrinkingSource{&X, X.rows()});
      },
      {"gave 999 rows in this pass and 1000 before"});
  CHECK_FALSE(model.is_fitted());

  // The same interface without the shrinking: a valid user-written source.
  struct Plain {
    const Eigen::MatrixXd* X;
    Eigen::Index position = 0;
    Eigen::Index n_features() const { return X->cols(); }
    void rewind() { position = 0; }
    auto next_block() {
      const Eigen::Index rows = std::min<Eigen::Index>(33, X->rows() - position);
      position += rows;
      return X->middleRows(position - rows, rows);
    }
  };
  gaussmix::GaussianMixtureXd streamed(options_for(CovarianceType::Diagonal));
  gaussmix::GaussianMixtureXd in_memory(options_for(CovarianceType::Diagonal));
  gaussmix::fit_source(streamed, Plain{&X});
  in_memory.fit(X);
  require_same_parameters(streamed, in_memory, kRelative);
  Plain plain{&X};
  CHECK(gaussmix::detail::count_rows(plain) == 1000);
}

}  // namespace gaussmix_test_stream
