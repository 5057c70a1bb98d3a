// SPDX-License-Identifier: MIT
// fit_mpi (gaussmix/mpi.hpp) under mpirun: the fit over shards held by the ranks equals the
// single-process fit_source over all the rows to 1e-12 relative, for every covariance type, cold and
// warm starts, uneven and empty shards and binary-file slices; every rank ends with bit-identical
// parameters; and a failure on one rank makes every rank throw the same exception (no hang). The same for
// BayesianGaussianMixture (both weight priors, every covariance type, cold and warm starts) against the
// in-memory fit (the sample holding every row), with its posterior parameters.
// Every rank checks everything; rank 0 reports. Run as: mpirun -np 3 ./gaussmix_mpi_tests

#include <mpi.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <gaussmix/gaussmix.hpp>
#include <gaussmix/mpi.hpp>
#include <limits>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

namespace {

using gaussmix::CovarianceType;
using gaussmix::Options;

int rank = 0, ranks = 1;
int checks = 0;
std::vector<std::string> failures;

void check(bool ok, const std::string& what) {
  ++checks;
  if (ok) return;
  failures.push_back(what);
  std::fprintf(stderr, "rank %d: FAILED: %s\n", rank, what.c_str());
}

const CovarianceType kTypes[] = {CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical,
                                 CovarianceType::Tied};

// n rows of a fixed 3-component mixture in d = 3, the same on every rank.
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

Options options_for(CovarianceType type) {
  Options o;
  o.n_components = 3;
  o.covariance_type = type;
  o.max_iter = 40;
  o.tol = 1e-10;
  o.seed = 5;
  return o;
}

template <class Model>
void set_start(Model& model, CovarianceType type) {
  using Matrix = typename Model::Matrix;
  Eigen::MatrixXd means(3, 3);
  means << 9, 9, 9, 12, 11, 9, 8, 13, 11;
  std::vector<Matrix> covariances;
  for (int k = 0; k < 3; ++k) {
    Eigen::MatrixXd c = (1.0 + 0.5 * (type == CovarianceType::Tied ? 0 : k)) * Eigen::MatrixXd::Identity(3, 3);
    if (type == CovarianceType::Full || type == CovarianceType::Tied) c.array() += 0.2;
    covariances.push_back(c.cast<typename Matrix::Scalar>());
  }
  model.set_parameters(Eigen::Vector3d(0.4, 0.35, 0.25), means, covariances);
}

template <class A, class B>
double relative_difference(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
  const double scale = std::max(b.template cast<double>().cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
  return (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff() / scale;
}

// All parameters of a model as doubles.
template <class Model>
std::vector<double> flatten(const Model& m) {
  std::vector<double> out;
  for (int k = 0; k < m.n_components(); ++k) out.push_back(m.weights()(k));
  const auto means = m.means();
  for (Eigen::Index i = 0; i < means.size(); ++i) out.push_back(means(i));
  for (int k = 0; k < m.n_components(); ++k) {
    const auto c = m.covariance(k);
    for (Eigen::Index i = 0; i < c.size(); ++i) out.push_back(c(i));
  }
  return out;
}

// The MPI model equals the single-process one within `tolerance`, and is bit-identical on every rank.
template <class Model>
void compare(const std::string& name, const Model& mpi, const gaussmix::FitResult& mpi_result, const Model& single,
             const gaussmix::FitResult& single_result, double tolerance) {
  check(relative_difference(mpi.weights(), single.weights()) <= tolerance, name + ": weights");
  check(relative_difference(mpi.means(), single.means()) <= tolerance, name + ": means");
  for (int k = 0; k < mpi.n_components(); ++k)
    check(relative_difference(mpi.covariance(k), single.covariance(k)) <= tolerance,
          name + ": covariance " + std::to_string(k) + " differs by " +
              std::to_string(relative_difference(mpi.covariance(k), single.covariance(k))));
  check(mpi_result.n_iter == single_result.n_iter,
        name + ": n_iter " + std::to_string(mpi_result.n_iter) + " vs " + std::to_string(single_result.n_iter));
  check(std::abs(mpi_result.lower_bound - single_result.lower_bound) <= tolerance * std::abs(single_result.lower_bound),
        name + ": lower_bound");
  const std::vector<double> mine = flatten(mpi);
  std::vector<double> low(mine.size()), high(mine.size());
  MPI_Allreduce(mine.data(), low.data(), static_cast<int>(mine.size()), MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(mine.data(), high.data(), static_cast<int>(mine.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  check(low == mine && high == mine, name + ": the ranks' parameters are not bit-identical");
}

// Rows [first, last) of n for this rank: the standard split, or one with rank 1 empty.
std::pair<Eigen::Index, Eigen::Index> shard(Eigen::Index n, bool rank_1_empty) {
  if (!rank_1_empty || ranks < 3) return {n * rank / ranks, n * (rank + 1) / ranks};
  // rank 0: [0, n/3), rank 1: empty, ranks 2..: the rest split evenly
  if (rank == 0) return {0, n / 3};
  if (rank == 1) return {n / 3, n / 3};
  const Eigen::Index rest = n - n / 3, parts = ranks - 2, r = rank - 2;
  return {n / 3 + rest * r / parts, n / 3 + rest * (r + 1) / parts};
}

void same_fit_as_one_process(const Eigen::MatrixXd& X) {
  gaussmix::StreamOptions stream;
  stream.reservoir_size = 2000;  // < N: the ranks' samples must merge into the one-process sample
  for (bool rank_1_empty : {false, true}) {
    const auto [first, last] = shard(X.rows(), rank_1_empty);
    const Eigen::MatrixXd local = X.middleRows(first, last - first);
    for (CovarianceType type : kTypes) {
      const std::string name =
          std::string("cold start, ") + gaussmix::to_string(type) + (rank_1_empty ? ", rank 1 empty" : ", even shards");
      gaussmix::GaussianMixtureXd single(options_for(type)), mpi(options_for(type));
      const auto a = gaussmix::fit_source(single, gaussmix::MatrixSource(X), stream);
      const auto b = gaussmix::fit_mpi(mpi, gaussmix::MatrixSource(local, 500), MPI_COMM_WORLD, stream);
      compare(name, mpi, b, single, a, 1e-12);
    }
  }
  for (CovarianceType type : kTypes) {
    const auto [first, last] = shard(X.rows(), false);
    const Eigen::MatrixXd local = X.middleRows(first, last - first);
    Options o = options_for(type);
    o.warm_start = true;
    gaussmix::GaussianMixtureXd single(o), mpi(o);
    set_start(single, type);
    set_start(mpi, type);
    const auto a = gaussmix::fit_source(single, gaussmix::MatrixSource(X));
    const auto b = gaussmix::fit_mpi(mpi, gaussmix::MatrixSource(local));
    compare(std::string("warm start, ") + gaussmix::to_string(type), mpi, b, single, a, 1e-12);

    Options several = options_for(type);
    several.n_init = 3;
    several.init_params = gaussmix::InitMethod::KMeansPlusPlus;
    gaussmix::GaussianMixtureXd single3(several), mpi3(several);
    const auto c = gaussmix::fit_source(single3, gaussmix::MatrixSource(X), stream);
    const auto e = gaussmix::fit_mpi(mpi3, gaussmix::MatrixSource(local), MPI_COMM_WORLD, stream);
    compare(std::string("n_init = 3, k-means++, ") + gaussmix::to_string(type), mpi3, e, single3, c, 1e-12);

    const Eigen::MatrixXf Xf = X.cast<float>(), localf = local.cast<float>();
    gaussmix::GaussianMixtureXf singlef(options_for(type)), mpif(options_for(type));
    const auto g = gaussmix::fit_source(singlef, gaussmix::MatrixSource(Xf), stream);
    const auto h = gaussmix::fit_mpi(mpif, gaussmix::MatrixSource(localf), MPI_COMM_WORLD, stream);
    check(relative_difference(mpif.means(), singlef.means()) <= 1e-4,
          std::string("float, ") + gaussmix::to_string(type) + ": means");
    check(relative_difference(mpif.covariance(0), singlef.covariance(0)) <= 1e-3,
          std::string("float, ") + gaussmix::to_string(type) + ": covariance 0");
    (void)g;
    (void)h;
  }
}

// Options::missing = Marginalise: with about 20% of the entries NaN, fit_mpi equals fit_source to 1e-12,
// cold (mean-filled sample for the initialisers) and warm.
void missing_values(const Eigen::MatrixXd& X) {
  Eigen::MatrixXd holes = X;
  for (Eigen::Index i = 0; i < holes.rows(); ++i)
    for (Eigen::Index j = 0; j < holes.cols(); ++j)
      if ((i * 7 + j * 3) % 5 == 0 && j != i % holes.cols()) holes(i, j) = std::numeric_limits<double>::quiet_NaN();
  gaussmix::StreamOptions stream;
  stream.reservoir_size = 2000;
  const auto [first, last] = shard(holes.rows(), false);
  const Eigen::MatrixXd local = holes.middleRows(first, last - first);
  for (CovarianceType type : kTypes) {
    Options o = options_for(type);
    o.missing = gaussmix::MissingValues::Marginalise;
    gaussmix::GaussianMixtureXd single(o), mpi(o);
    const auto a = gaussmix::fit_source(single, gaussmix::MatrixSource(holes), stream);
    const auto b = gaussmix::fit_mpi(mpi, gaussmix::MatrixSource(local, 500), MPI_COMM_WORLD, stream);
    compare(std::string("missing values, cold start, ") + gaussmix::to_string(type), mpi, b, single, a, 1e-12);
    o.warm_start = true;
    gaussmix::GaussianMixtureXd single_warm(o), mpi_warm(o);
    set_start(single_warm, type);
    set_start(mpi_warm, type);
    const auto c = gaussmix::fit_source(single_warm, gaussmix::MatrixSource(holes));
    const auto e = gaussmix::fit_mpi(mpi_warm, gaussmix::MatrixSource(local));
    compare(std::string("missing values, warm start, ") + gaussmix::to_string(type), mpi_warm, e, single_warm, c,
            1e-12);
  }
}

void binary_file_slices(const Eigen::MatrixXd& X) {
  int id = 0;
  if (rank == 0) id = static_cast<int>(std::hash<std::string>{}(std::to_string(MPI_Wtime())) % 1000000);
  MPI_Bcast(&id, 1, MPI_INT, 0, MPI_COMM_WORLD);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("gaussmix_test_mpi_" + std::to_string(id) + ".f64")).string();
  if (rank == 0) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = X;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(rows.data()), static_cast<std::streamsize>(rows.size() * sizeof(double)));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  for (CovarianceType type : {CovarianceType::Full, CovarianceType::Diagonal}) {
    gaussmix::GaussianMixtureXd single(options_for(type)), mpi(options_for(type));
    const auto a = gaussmix::fit_source(single, gaussmix::BinaryFileSource<double>(path, 3));
    auto slice = gaussmix::BinaryFileSource<double>::part(path, 3, rank, ranks);
    slice.set_buffer_rows(1000);
    const auto b = gaussmix::fit_mpi(mpi, slice);
    compare(std::string("binary file slices, ") + gaussmix::to_string(type), mpi, b, single, a, 1e-12);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) std::filesystem::remove(path);
}

// The fit_mpi line of the README's API table, verbatim (tests/test_readme_api.cpp checks that it is
// here): a Dim = 2 model fitted to this rank's share of a file of float64 rows.
void readme_example(const Eigen::MatrixXd& X) {
  int id = 0;
  if (rank == 0) id = static_cast<int>(std::hash<std::string>{}(std::to_string(MPI_Wtime())) % 1000000);
  MPI_Bcast(&id, 1, MPI_INT, 0, MPI_COMM_WORLD);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("gaussmix_test_mpi_readme_" + std::to_string(id) + ".f64")).string();
  if (rank == 0) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = X.leftCols(2);
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(rows.data()), static_cast<std::streamsize>(rows.size() * sizeof(double)));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const int size = ranks;
  const Options options = options_for(CovarianceType::Full);
  gaussmix::GaussianMixture<double, 2> gmm(options);
  // clang-format off
  // README API row: fit_mpi(model, shard)
  auto shard = gaussmix::BinaryFileSource<double>::part(path, 2, rank, size); gaussmix::FitResult fitted = gaussmix::fit_mpi(gmm, shard);
  // clang-format on
  check(shard.n_rows() == (X.rows() * (rank + 1)) / size - (X.rows() * rank) / size, "README example: shard rows");
  gaussmix::GaussianMixture<double, 2> single(options);
  const auto one_process = gaussmix::fit_source(single, gaussmix::BinaryFileSource<double>(path, 2));
  compare("README example (fit_mpi on BinaryFileSource::part)", gmm, fitted, single, one_process, 1e-12);
  check(std::abs(gmm.weights().sum() - 1.0) < 1e-12, "README example: weights sum to 1");
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) std::filesystem::remove(path);
}

// The documented count of doubles per iteration is the size of the buffer really sent.
void message_size() {
  for (CovarianceType type : kTypes) {
    gaussmix::SufficientStatistics<Eigen::Dynamic> s;
    s.reset(type, Eigen::MatrixXd::Zero(4, 8));
    std::vector<double> buffer;
    gaussmix::detail::pack_statistics(s, 0.0, buffer);
    check(static_cast<Eigen::Index>(buffer.size()) == gaussmix::mpi_doubles_per_iteration(type, 4, 8),
          std::string("message size, ") + gaussmix::to_string(type));
  }
  check(gaussmix::mpi_doubles_per_iteration(CovarianceType::Full, 4, 8) == 183, "183 doubles for K = 4, d = 8, full");
}

// Every rank must throw exactly `Exception` with a message containing `part`.
template <class Exception, class Call>
void every_rank_throws(const std::string& name, const std::string& part, Call&& call) {
  try {
    call();
    check(false, name + ": did not throw");
  } catch (const std::exception& e) {
    const std::string what = e.what();
    check(typeid(e) == typeid(Exception), name + ": wrong exception type, what(): " + what);
    check(what.rfind("gaussmix:", 0) == 0 && what.find(part) != std::string::npos,
          name + ": message \"" + what + "\" lacks \"" + part + "\"");
  }
}

void failures_reach_every_rank(const Eigen::MatrixXd& X) {
  const auto [first, last] = shard(X.rows(), false);
  const Eigen::Index bad_row = X.rows() * (ranks - 1) / ranks + 5;  // in the last rank's shard
  Eigen::MatrixXd Y = X;
  Y(bad_row, 1) = std::numeric_limits<double>::quiet_NaN();
  const Eigen::MatrixXd local = Y.middleRows(first, last - first);

  gaussmix::GaussianMixtureXd cold(options_for(CovarianceType::Full));
  every_rank_throws<std::invalid_argument>("NaN while sampling", "row " + std::to_string(bad_row),
                                           [&] { gaussmix::fit_mpi(cold, gaussmix::MatrixSource(local)); });
  check(!cold.is_fitted(), "NaN while sampling: the model changed");

  Options o = options_for(CovarianceType::Full);
  o.warm_start = true;
  gaussmix::GaussianMixtureXd warm(o);
  set_start(warm, CovarianceType::Full);
  every_rank_throws<std::invalid_argument>("NaN in the E-step", "row " + std::to_string(bad_row),
                                           [&] { gaussmix::fit_mpi(warm, gaussmix::MatrixSource(local)); });

  Options odd = options_for(CovarianceType::Full);
  if (rank == ranks - 1) odd.tol = 1e-4;
  gaussmix::GaussianMixtureXd mismatched(odd);
  const Eigen::MatrixXd good = X.middleRows(first, last - first);
  if (ranks > 1)
    every_rank_throws<std::invalid_argument>("different options", "Options::tol differs between rank 0 and rank",
                                             [&] { gaussmix::fit_mpi(mismatched, gaussmix::MatrixSource(good)); });

  gaussmix::GaussianMixtureXd few(options_for(CovarianceType::Full));
  const Eigen::MatrixXd one_row = X.topRows(rank == 0 ? 2 : 0);
  every_rank_throws<std::invalid_argument>("too few rows", "2 rows in all, fewer than n_components = 3",
                                           [&] { gaussmix::fit_mpi(few, gaussmix::MatrixSource(one_row)); });
}

// --- BayesianGaussianMixture ------------------------------------------------------------------------------

using BayesianXd = gaussmix::BayesianGaussianMixtureXd;
const gaussmix::WeightPrior kPriors[] = {gaussmix::WeightPrior::DirichletProcess,
                                         gaussmix::WeightPrior::DirichletDistribution};

// As compare, plus the posterior's own parameters and lower bound (within `tolerance`, bit-identical on every rank).
void compare_bayesian(const std::string& name, const BayesianXd& mpi, const gaussmix::FitResult& mpi_result,
                      const BayesianXd& single, const gaussmix::FitResult& single_result, double tolerance) {
  compare(name, mpi, mpi_result, single, single_result, tolerance);
  check(relative_difference(mpi.weight_concentration(), single.weight_concentration()) <= tolerance,
        name + ": weight_concentration");
  check(relative_difference(mpi.mean_precision(), single.mean_precision()) <= tolerance, name + ": mean_precision");
  check(relative_difference(mpi.degrees_of_freedom(), single.degrees_of_freedom()) <= tolerance,
        name + ": degrees_of_freedom");
  check(std::abs(mpi.lower_bound() - single.lower_bound()) <= tolerance * std::abs(single.lower_bound()),
        name + ": lower_bound()");
  const Eigen::MatrixXd wc = mpi.weight_concentration();
  std::vector<double> mine(wc.data(), wc.data() + wc.size());
  for (const Eigen::VectorXd& v : {mpi.mean_precision(), mpi.degrees_of_freedom()})
    mine.insert(mine.end(), v.data(), v.data() + v.size());
  mine.push_back(mpi.lower_bound());
  std::vector<double> low(mine.size()), high(mine.size());
  MPI_Allreduce(mine.data(), low.data(), static_cast<int>(mine.size()), MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(mine.data(), high.data(), static_cast<int>(mine.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  check(low == mine && high == mine, name + ": the ranks' posteriors are not bit-identical");
}

// Bayesian: FitResult::lower_bound is the total ELBO (here ~1e5, not per sample), so a tol of 1e-10 would be
// its rounding and the iteration that stops would depend on the order of the sums.
Options bayesian_options(CovarianceType type) {
  Options o = options_for(type);
  o.tol = 1e-6;
  return o;
}

gaussmix::BayesianPriors priors_for(gaussmix::WeightPrior weight_prior) {
  gaussmix::BayesianPriors p;
  p.weight_prior = weight_prior;
  return p;
}

// Soft responsibilities (n x 3, rows summing to 1) that differ with `shift`.
Eigen::MatrixXd soft_responsibilities(Eigen::Index n, int shift) {
  Eigen::MatrixXd resp(n, 3);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) resp(i, k) = 1.0 + static_cast<double>((i * 7 + k * 3 + shift) % 5);
  return resp.array().colwise() / resp.rowwise().sum().array();
}

void bayesian_same_fit_as_one_process(const Eigen::MatrixXd& X) {
  const auto [first, last] = shard(X.rows(), true);  // rank 1 empty
  const Eigen::MatrixXd local = X.middleRows(first, last - first);
  // The sample holds every row, so the fit starts as the in-memory fit. (The merging of samples smaller than
  // N is the GaussianMixture tests' above: the same code. Comparing with the in-memory fit rather than
  // fit_source also keeps this file's compile time down: fit_source would instantiate a second variational
  // EM loop.)
  gaussmix::StreamOptions everything;
  everything.reservoir_size = X.rows();
  for (gaussmix::WeightPrior weight_prior : kPriors) {
    const gaussmix::BayesianPriors priors = priors_for(weight_prior);
    for (CovarianceType type : kTypes) {
      const std::string name =
          std::string("Bayesian ") + gaussmix::to_string(weight_prior) + ", " + gaussmix::to_string(type);
      Options cold = bayesian_options(type);
      if (type == CovarianceType::Spherical) cold.n_init = 2;  // two initialisations broadcast, the best kept
      BayesianXd memory(cold, priors), mpi(cold, priors);
      const auto a = memory.fit(X);
      const auto b = gaussmix::fit_mpi(mpi, gaussmix::MatrixSource(local, 500), MPI_COMM_WORLD, everything);
      compare_bayesian(name + ", cold start vs the in-memory fit", mpi, b, memory, a, 1e-12);

      // Warm start from m_step (scikit-learn's _initialize): the other ranks start elsewhere, and continue
      // from rank 0's posterior.
      Options o = bayesian_options(type);
      o.warm_start = true;
      BayesianXd single_warm(o, priors), mpi_warm(o, priors);
      single_warm.m_step(X, soft_responsibilities(X.rows(), 0));
      mpi_warm.m_step(X, soft_responsibilities(X.rows(), rank == 0 ? 0 : rank + 1));
      const auto g = single_warm.fit(X);
      const auto h = gaussmix::fit_mpi(mpi_warm, gaussmix::MatrixSource(local, 700));
      compare_bayesian(name + ", warm start vs the in-memory fit", mpi_warm, h, single_warm, g, 1e-12);
    }
  }
}

void bayesian_failures(const Eigen::MatrixXd& X) {
  const auto [first, last] = shard(X.rows(), false);
  const Eigen::MatrixXd good = X.middleRows(first, last - first);
  const gaussmix::BayesianPriors priors = priors_for(gaussmix::WeightPrior::DirichletProcess);

  gaussmix::BayesianPriors odd = priors;
  if (rank == ranks - 1) odd.mean_precision = 2.0;
  BayesianXd mismatched(bayesian_options(CovarianceType::Full), odd);
  if (ranks > 1)
    every_rank_throws<std::invalid_argument>("Bayesian, different priors",
                                             "BayesianPriors::mean_precision differs between rank 0 and rank",
                                             [&] { gaussmix::fit_mpi(mismatched, gaussmix::MatrixSource(good)); });
  check(!mismatched.is_fitted(), "Bayesian, different priors: the model changed");

  const Eigen::Index bad_row = X.rows() * (ranks - 1) / ranks + 5;  // in the last rank's shard
  Eigen::MatrixXd Y = X;
  Y(bad_row, 1) = std::numeric_limits<double>::quiet_NaN();
  const Eigen::MatrixXd local = Y.middleRows(first, last - first);
  BayesianXd cold(bayesian_options(CovarianceType::Diagonal), priors);
  every_rank_throws<std::invalid_argument>("Bayesian, NaN while sampling", "row " + std::to_string(bad_row),
                                           [&] { gaussmix::fit_mpi(cold, gaussmix::MatrixSource(local)); });
  check(!cold.is_fitted(), "Bayesian, NaN while sampling: the model changed");

  Options o = bayesian_options(CovarianceType::Full);
  o.warm_start = true;
  BayesianXd warm(o, priors);
  warm.m_step(X, soft_responsibilities(X.rows(), rank));
  const Eigen::MatrixXd before = warm.weight_concentration();
  every_rank_throws<std::invalid_argument>("Bayesian, NaN on a warm start", "not finite",
                                           [&] { gaussmix::fit_mpi(warm, gaussmix::MatrixSource(local)); });
  check(warm.weight_concentration() == before, "Bayesian, NaN on a warm start: the model changed");
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  try {
    const Eigen::MatrixXd X = mixture_data(20000, 17);
    message_size();
    same_fit_as_one_process(X);
    binary_file_slices(X);
    missing_values(X);
    readme_example(X);
    failures_reach_every_rank(X);
    bayesian_same_fit_as_one_process(X);
    bayesian_failures(X);
  } catch (const std::exception& e) {
    check(false, std::string("unexpected exception: ") + e.what());
  }
  const int mine = static_cast<int>(failures.size());
  std::vector<int> per_rank(static_cast<std::size_t>(ranks));
  MPI_Gather(&mine, 1, MPI_INT, per_rank.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  int total = 0;
  MPI_Allreduce(&mine, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) {
    if (total == 0) {
      std::printf("test_mpi_fit: all %d checks passed on each of %d ranks\n", checks, ranks);
    } else {
      std::printf("test_mpi_fit: %d failed checks:", total);
      for (int r = 0; r < ranks; ++r) std::printf(" rank %d: %d;", r, per_rank[static_cast<std::size_t>(r)]);
      std::printf(" (the messages are above)\n");
    }
  }
  MPI_Finalize();
  return total == 0 ? 0 : 1;
}
