// SPDX-License-Identifier: MIT
#pragma once

// Optional: fits across MPI ranks. Not included by gaussmix.hpp; the rest of the library never
// needs MPI. Include this header and link MPI (CMake: find_package(MPI) and MPI::MPI_CXX).

#include <mpi.h>

#include <Eigen/Core>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bayesian_mixture.hpp"
#include "covariance.hpp"
#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "gaussian_mixture.hpp"
#include "initial_parameters.hpp"
#include "options.hpp"
#include "parameters.hpp"
#include "statistics.hpp"
#include "stream.hpp"

namespace gaussmix {

/// Doubles that `fit_mpi` sums with its one MPI_Allreduce per EM iteration, whatever N:
/// K weights + K d first moments + the second moments (lower triangles: K d(d+1)/2 for Full,
/// d(d+1)/2 for Tied; K d diagonals for Diagonal and Spherical) + log-likelihood, total weight and
/// an error flag.
inline Eigen::Index mpi_doubles_per_iteration(CovarianceType type, int K, int d) {
  const Eigen::Index triangle = Eigen::Index{d} * (d + 1) / 2;
  Eigen::Index second = 0;
  switch (type) {
    case CovarianceType::Full:
      second = K * triangle;
      break;
    case CovarianceType::Tied:
      second = triangle;
      break;
    case CovarianceType::Diagonal:
    case CovarianceType::Spherical:
      second = Eigen::Index{K} * d;
      break;
  }
  return K + Eigen::Index{K} * d + second + 3;
}

namespace detail {

inline void mpi_call(int code, const char* what) {
  if (code != MPI_SUCCESS) throw std::runtime_error(message("fit_mpi: ", what, " failed with MPI error ", code));
}

// Exceptions cross ranks as (kind, message), so every rank can throw the same type.
enum MpiErrorKind : std::int64_t { kInvalidArgument = 1, kNumerical, kLogic, kRuntime, kOther };

inline std::pair<std::int64_t, std::string> describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const NumericalError& e) {
    return {kNumerical, e.what()};
  } catch (const std::invalid_argument& e) {
    return {kInvalidArgument, e.what()};
  } catch (const std::logic_error& e) {
    return {kLogic, e.what()};
  } catch (const std::runtime_error& e) {
    return {kRuntime, e.what()};
  } catch (const std::exception& e) {
    return {kOther, e.what()};
  } catch (...) {
    return {kOther, "gaussmix: fit_mpi: an exception that is not a std::exception"};
  }
}

[[noreturn]] inline void throw_kind(std::int64_t kind, const std::string& what) {
  switch (kind) {
    case kNumerical:
      throw NumericalError(what);
    case kInvalidArgument:
      throw std::invalid_argument(what);
    case kLogic:
      throw std::logic_error(what);
    default:
      throw std::runtime_error(what);
  }
}

// Called by every rank once all of them know that some rank failed (`local` is set on those that
// did). Every rank then throws the error of the lowest failing rank: that rank its own exception,
// the others one of the same type and message, followed by " (on rank r)". Collective.
[[noreturn]] inline void mpi_raise(MPI_Comm comm, std::exception_ptr local) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int mine = local ? rank : size;
  int root = size;
  mpi_call(MPI_Allreduce(&mine, &root, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  if (root == size) throw std::logic_error(message("fit_mpi: a rank failed but none reports an error"));
  std::int64_t header[2] = {0, 0};
  std::string what;
  if (rank == root) {
    auto [kind, text] = describe(local);
    header[0] = kind;
    header[1] = static_cast<std::int64_t>(text.size());
    what = std::move(text);
  }
  mpi_call(MPI_Bcast(header, 2, MPI_INT64_T, root, comm), "MPI_Bcast");
  what.resize(static_cast<std::size_t>(header[1]));
  mpi_call(MPI_Bcast(what.data(), static_cast<int>(header[1]), MPI_CHAR, root, comm), "MPI_Bcast");
  if (rank == root) std::rethrow_exception(local);
  throw_kind(header[0], what + " (on rank " + std::to_string(root) + ")");
}

// --- sufficient statistics <-> one buffer of doubles ----------------------------------------------

template <int Dim>
void pack_statistics(const SufficientStatistics<Dim>& s, double error, std::vector<double>& out) {
  out.clear();
  const Eigen::Index K = s.n_components(), d = s.n_features();
  for (Eigen::Index k = 0; k < K; ++k) out.push_back(s.weight(k));
  for (Eigen::Index k = 0; k < K; ++k)
    for (Eigen::Index j = 0; j < d; ++j) out.push_back(s.first(k, j));
  for (const auto& m : s.second)  // the lower triangle, column by column
    for (Eigen::Index j = 0; j < d; ++j)
      for (Eigen::Index i = j; i < d; ++i) out.push_back(m(i, j));
  for (Eigen::Index k = 0; k < s.second_diagonal.rows(); ++k)
    for (Eigen::Index j = 0; j < d; ++j) out.push_back(s.second_diagonal(k, j));
  out.push_back(s.log_likelihood);
  out.push_back(s.total_weight);
  out.push_back(error);
}

template <int Dim>
void unpack_statistics(const std::vector<double>& in, SufficientStatistics<Dim>& s) {
  const Eigen::Index K = s.n_components(), d = s.n_features();
  std::size_t at = 0;
  for (Eigen::Index k = 0; k < K; ++k) s.weight(k) = in[at++];
  for (Eigen::Index k = 0; k < K; ++k)
    for (Eigen::Index j = 0; j < d; ++j) s.first(k, j) = in[at++];
  for (auto& m : s.second) {
    m.setZero();
    for (Eigen::Index j = 0; j < d; ++j)
      for (Eigen::Index i = j; i < d; ++i) m(i, j) = in[at++];
  }
  for (Eigen::Index k = 0; k < s.second_diagonal.rows(); ++k)
    for (Eigen::Index j = 0; j < d; ++j) s.second_diagonal(k, j) = in[at++];
  s.log_likelihood = in[at++];
  s.total_weight = in[at++];
}

// --- parameters <-> one buffer of doubles: [status, weights, means, K dense covariances] ------------

template <class W, class M, class C>
void pack_parameters(const W& weights, const M& means, C&& covariance, int K, int d, std::vector<double>& out) {
  out.assign(1, 0.0);
  for (int k = 0; k < K; ++k) out.push_back(static_cast<double>(weights(k)));
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < d; ++j) out.push_back(static_cast<double>(means(k, j)));
  for (int k = 0; k < K; ++k) {
    const auto c = covariance(k);
    for (int j = 0; j < d; ++j)
      for (int i = 0; i < d; ++i) out.push_back(static_cast<double>(c(i, j)));
  }
}

inline std::size_t parameters_doubles(int K, int d) {
  return 1 + static_cast<std::size_t>(K) * (1 + d + static_cast<std::size_t>(d) * d);
}

template <typename Scalar, int Dim>
struct UnpackedParameters {
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> weights;
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> means;
  std::vector<Eigen::Matrix<Scalar, Dim, Dim>> covariances;
};

template <typename Scalar, int Dim>
UnpackedParameters<Scalar, Dim> unpack_parameters(const std::vector<double>& in, int K, int d) {
  UnpackedParameters<Scalar, Dim> p;
  std::size_t at = 1;
  p.weights.resize(K);
  p.means.resize(K, d);
  for (int k = 0; k < K; ++k) p.weights(k) = static_cast<Scalar>(in[at++]);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < d; ++j) p.means(k, j) = static_cast<Scalar>(in[at++]);
  for (int k = 0; k < K; ++k) {
    Eigen::Matrix<Scalar, Dim, Dim> c(d, d);
    for (int j = 0; j < d; ++j)
      for (int i = 0; i < d; ++i) c(i, j) = static_cast<Scalar>(in[at++]);
    p.covariances.push_back(c);
  }
  return p;
}

// --- the row sample as one MPI element, merged by a user-defined reduction ---------------------------
// Layout (bytes): int64 count, int64 errors, int64 capacity, int64 d, then `capacity` entries
// {uint64 key, uint64 row, double x[d]}; the first `count` are valid, in ascending key order.

constexpr std::size_t kSampleHeader = 4 * sizeof(std::int64_t);

inline std::size_t sample_entry_bytes(std::int64_t d) { return 2 * sizeof(std::uint64_t) + d * sizeof(double); }

inline std::int64_t read_int(const unsigned char* p, int field) {
  std::int64_t v;
  std::memcpy(&v, p + field * sizeof(std::int64_t), sizeof v);
  return v;
}

inline void write_int(unsigned char* p, int field, std::int64_t v) {
  std::memcpy(p + field * sizeof(std::int64_t), &v, sizeof v);
}

inline std::uint64_t entry_key(const unsigned char* entry) {
  std::uint64_t k;
  std::memcpy(&k, entry, sizeof k);
  return k;
}

inline std::vector<unsigned char> pack_sample(const RowSample& sample, std::int64_t errors) {
  const std::int64_t d = sample.n_features(), capacity = sample.capacity();
  const std::size_t entry = sample_entry_bytes(d);
  std::vector<unsigned char> out(kSampleHeader + static_cast<std::size_t>(capacity) * entry, 0);
  const auto sorted =
      sample.entries([](const RowSample::Entry& a, const RowSample::Entry& b) { return a.key < b.key; });
  write_int(out.data(), 0, static_cast<std::int64_t>(sorted.size()));
  write_int(out.data(), 1, errors);
  write_int(out.data(), 2, capacity);
  write_int(out.data(), 3, d);
  unsigned char* p = out.data() + kSampleHeader;
  for (const auto& e : sorted) {
    std::memcpy(p, &e.key, sizeof e.key);
    std::memcpy(p + sizeof e.key, &e.row, sizeof e.row);
    std::memcpy(p + 2 * sizeof e.key, sample.values(e), static_cast<std::size_t>(d) * sizeof(double));
    p += entry;
  }
  return out;
}

// The MPI_User_function: inout = the `capacity` smallest keys of in and inout, errors summed.
// Commutative and associative, as a set operation with a canonical (key-sorted) layout.
inline void merge_samples(void* in_void, void* inout_void, int* len, MPI_Datatype*) {
  auto* in = static_cast<unsigned char*>(in_void);
  auto* inout = static_cast<unsigned char*>(inout_void);
  for (int element = 0; element < *len; ++element) {
    const std::int64_t capacity = read_int(inout, 2), d = read_int(inout, 3);
    const std::size_t entry = sample_entry_bytes(d);
    const std::size_t bytes = kSampleHeader + static_cast<std::size_t>(capacity) * entry;
    const std::int64_t na = read_int(in, 0), nb = read_int(inout, 0);
    std::vector<unsigned char> merged(static_cast<std::size_t>(capacity) * entry);
    const unsigned char* a = in + kSampleHeader;
    const unsigned char* b = inout + kSampleHeader;
    std::int64_t ia = 0, ib = 0, n = 0;
    for (; n < capacity && (ia < na || ib < nb); ++n) {
      const bool take_a = ib >= nb || (ia < na && entry_key(a + ia * entry) < entry_key(b + ib * entry));
      const unsigned char* from = take_a ? a + (ia++) * entry : b + (ib++) * entry;
      std::memcpy(merged.data() + n * entry, from, entry);
    }
    std::memcpy(inout + kSampleHeader, merged.data(), static_cast<std::size_t>(n) * entry);
    write_int(inout, 0, n);
    write_int(inout, 1, read_int(in, 1) + read_int(inout, 1));
    in += bytes;
    inout += bytes;
  }
}

// The row sample of all ranks (identical on every rank) and the number of ranks that failed.
inline std::pair<RowSample, std::int64_t> allreduce_sample(const RowSample& local, bool failed, MPI_Comm comm) {
  std::vector<unsigned char> buffer = pack_sample(local, failed ? 1 : 0);
  if (buffer.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::invalid_argument(message("fit_mpi: StreamOptions::reservoir_size = ", local.capacity(),
                                        " rows of d = ", local.n_features(), " do not fit in one MPI message"));
  MPI_Datatype element;
  mpi_call(MPI_Type_contiguous(static_cast<int>(buffer.size()), MPI_BYTE, &element), "MPI_Type_contiguous");
  MPI_Type_commit(&element);
  MPI_Op merge;
  MPI_Op_create(&merge_samples, 1, &merge);
  const int code = MPI_Allreduce(MPI_IN_PLACE, buffer.data(), 1, element, merge, comm);
  MPI_Op_free(&merge);
  MPI_Type_free(&element);
  mpi_call(code, "MPI_Allreduce of the row sample");
  RowSample merged(local.capacity(), local.n_features(), local.seed());
  const std::int64_t count = read_int(buffer.data(), 0), d = local.n_features();
  const std::size_t entry = sample_entry_bytes(d);
  for (std::int64_t i = 0; i < count; ++i) {
    const unsigned char* p = buffer.data() + kSampleHeader + static_cast<std::size_t>(i) * entry;
    std::uint64_t key, row;
    std::memcpy(&key, p, sizeof key);
    std::memcpy(&row, p + sizeof key, sizeof row);
    std::vector<double> x(static_cast<std::size_t>(d));
    std::memcpy(x.data(), p + 2 * sizeof key, x.size() * sizeof(double));
    merged.offer_keyed(key, row, x.data());
  }
  return {std::move(merged), read_int(buffer.data(), 1)};
}

inline std::int64_t bits_of(double v) {
  std::int64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Throws std::logic_error unless MPI is initialised.
inline void require_mpi_init() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) throw std::logic_error(message("fit_mpi: call MPI_Init before fit_mpi"));
}

// Collective: every rank raises the error of the lowest failing rank if any rank has `local`.
inline void mpi_check(MPI_Comm comm, std::exception_ptr local) {
  const int mine = local ? 1 : 0;
  int any = 0;
  mpi_call(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce");
  if (any != 0) mpi_raise(comm, local);
}

// A setting every rank must give alike: its name in messages and its value (bits for doubles).
struct MpiSetting {
  const char* name;
  std::int64_t value;
};

// FNV-1a of a matrix's shape and bytes (0 when absent): compares an optional prior across ranks.
template <class M>
std::int64_t fingerprint(const std::optional<M>& m) {
  if (!m) return 0;
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  const Eigen::Index shape[2] = {m->rows(), m->cols()};
  mix(shape, sizeof shape);
  mix(m->data(), static_cast<std::size_t>(m->size()) * sizeof(typename M::Scalar));
  return static_cast<std::int64_t>(h | 1);
}

inline std::int64_t bits_of(const std::optional<double>& v) {
  return v ? bits_of(*v) : bits_of(std::numeric_limits<double>::quiet_NaN());  // absent: NaN (never valid)
}

// Where this rank's shard sits in the data, as every rank agrees on it.
struct MpiLayout {
  int rank = 0;
  int size = 1;
  Eigen::Index d = 0;           // features
  Eigen::Index local_rows = 0;  // this rank's rows
  Eigen::Index first_row = 0;   // global index of this rank's first row
  Eigen::Index total = 0;       // rows of all ranks
};

// fit_mpi's first collective: every rank's row count (or failure) and settings, checked against rank 0's
// (std::invalid_argument naming the first that differs); `extra`: the model's own settings.
template <typename Scalar, int Dim, class Source>
MpiLayout mpi_agree(Source& src, const Options& options, const StreamOptions& stream, bool warm,
                    Eigen::Index model_features, const std::vector<MpiSetting>& extra, MPI_Comm comm) {
  MpiLayout layout;
  MPI_Comm_rank(comm, &layout.rank);
  MPI_Comm_size(comm, &layout.size);
  std::exception_ptr error;
  layout.d = src.n_features();
  try {
    check_source_features<Dim>(src, model_features, "fit_mpi");
    validate(stream, options);
    layout.local_rows = count_rows(src);
  } catch (...) {
    error = std::current_exception();
  }
  std::vector<MpiSetting> settings = {
      {"status", error ? 1 : 0},
      {"rows", static_cast<std::int64_t>(layout.local_rows)},
      {"the source's n_features", static_cast<std::int64_t>(layout.d)},
      {"Options::n_components", options.n_components},
      {"Options::covariance_type", static_cast<std::int64_t>(options.covariance_type)},
      {"Options::init_params", static_cast<std::int64_t>(options.init_params)},
      {"Options::n_init", options.n_init},
      {"Options::max_iter", options.max_iter},
      {"Options::seed", static_cast<std::int64_t>(options.seed)},
      {"Options::tol", bits_of(options.tol)},
      {"Options::reg_covar", bits_of(options.reg_covar)},
      {"warm start (Options::warm_start and parameters)", warm ? 1 : 0},
      {"StreamOptions::reservoir_size", static_cast<std::int64_t>(stream.reservoir_size)},
      {"the Scalar type", static_cast<std::int64_t>(sizeof(Scalar))},
      {"the Dim of the model", Dim}};
  settings.insert(settings.end(), extra.begin(), extra.end());
  const int fields = static_cast<int>(settings.size());
  std::vector<std::int64_t> mine, all(static_cast<std::size_t>(fields) * layout.size);
  for (const auto& s : settings) mine.push_back(s.value);
  mpi_call(MPI_Allgather(mine.data(), fields, MPI_INT64_T, all.data(), fields, MPI_INT64_T, comm), "MPI_Allgather");
  std::int64_t total = 0, first_row = 0;
  for (int r = 0; r < layout.size; ++r) {
    const std::int64_t* theirs = all.data() + static_cast<std::size_t>(r) * fields;
    if (theirs[0] != 0) mpi_raise(comm, error);
    for (int f = 2; f < fields; ++f)
      if (theirs[f] != all[static_cast<std::size_t>(f)])
        throw std::invalid_argument(message("fit_mpi: ", settings[static_cast<std::size_t>(f)].name,
                                            " differs between rank 0 and rank ", r,
                                            "; every rank must fit with the same settings"));
    if (r < layout.rank) first_row += theirs[1];
    total += theirs[1];
  }
  const int K = options.n_components;
  if (total < K)
    throw std::invalid_argument(
        message("fit_mpi: the ranks have ", total, " rows in all, fewer than n_components = ", K));
  layout.first_row = static_cast<Eigen::Index>(first_row);
  layout.total = static_cast<Eigen::Index>(total);
  return layout;
}

// Cold start: the uniform sample of all ranks' rows (the one fit_source draws), merged by one collective;
// returned on rank 0 (in global row order), empty elsewhere. `allow_missing`: rows may have NaN.
template <typename Scalar, int Dim, class Source>
Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> mpi_initialisation_sample(Source& src, const Options& options,
                                                                     const StreamOptions& stream,
                                                                     const MpiLayout& layout, bool allow_missing,
                                                                     MPI_Comm comm) {
  RowSample local(stream.reservoir_size, layout.d, sample_seed(options.seed));
  std::exception_ptr error;
  try {
    const Eigen::Index n = sample_source(src, local, layout.first_row, "fit_mpi", allow_missing);
    if (n != layout.local_rows)
      throw std::invalid_argument(
          message("fit_mpi: the source gave ", n, " rows, but its n_rows() is ", layout.local_rows));
  } catch (...) {
    error = std::current_exception();
  }
  auto [sample, failures] = allreduce_sample(local, static_cast<bool>(error), comm);
  if (failures > 0) mpi_raise(comm, error);
  if (layout.rank != 0) return {};
  return sample.template rows_in_order<Scalar, Dim>();
}

// Broadcasts rank 0's `buffer` (its [0] flags rank 0's `failure`, raised on every rank).
inline void mpi_broadcast(std::vector<double>& buffer, std::exception_ptr failure, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) buffer[0] = failure ? 1.0 : 0.0;
  mpi_call(MPI_Bcast(buffer.data(), static_cast<int>(buffer.size()), MPI_DOUBLE, 0, comm), "MPI_Bcast");
  if (buffer[0] != 0) mpi_raise(comm, failure);
}

// One run's starting Parameters: rank 0 initialises on the sample (Options::init_params, `rng`), every rank
// (rank 0 too) builds them from the same broadcast numbers. Collective.
template <typename Scalar, int Dim>
Parameters<Scalar, Dim> mpi_initial_parameters(Eigen::Matrix<Scalar, Eigen::Dynamic, Dim>& reservoir,
                                               const Options& options, Random& rng, const MpiLayout& layout,
                                               MPI_Comm comm) {
  const int K = options.n_components, d = static_cast<int>(layout.d);
  std::vector<double> parameters(parameters_doubles(K, d));
  std::exception_ptr failure;
  if (layout.rank == 0) {
    try {
      // Options::missing = Marginalise: the initialisers see the sample mean-filled, as in fit_source.
      if (options.missing == MissingValues::Marginalise && reservoir.hasNaN())
        fill_with_column_means(reservoir, nullptr, "fit_mpi");
      const auto p = initial_parameters<Scalar, Dim>(reservoir, nullptr, options, rng);
      pack_parameters(
          p.weights, p.means, [&](int k) { return p.covariances.dense(k); }, K, d, parameters);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  mpi_broadcast(parameters, failure, comm);
  const auto u = unpack_parameters<Scalar, Dim>(parameters, K, d);
  Parameters<Scalar, Dim> p;
  p.weights = u.weights;
  p.means = u.means;
  p.covariances = Covariances<Scalar, Dim>::from_dense(options.covariance_type, d, u.covariances);
  return p;
}

// Warm start of a BayesianGaussianMixture: rank 0's posterior, resolved priors and lower bound, broadcast
// and set (set_posterior) on the other ranks, which then hold it bit for bit. Collective.
template <typename Scalar, int Dim>
void broadcast_posterior(BayesianGaussianMixture<Scalar, Dim>& model, const MpiLayout& layout, MPI_Comm comm) {
  const Eigen::Index K = model.n_components(), d = layout.d;
  const Eigen::Index columns = model.priors().weight_prior == WeightPrior::DirichletProcess ? 2 : 1;
  std::vector<double> buffer(static_cast<std::size_t>(1 + K * columns + 2 * K + K * d + K * d * d + 3 + d + d * d + 1));
  std::size_t at = 1;
  auto put = [&](const auto& m) {  // column-major, as doubles
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      for (Eigen::Index i = 0; i < m.rows(); ++i) buffer[at++] = static_cast<double>(m(i, j));
  };
  auto get = [&](auto& m) {
    using M = std::remove_reference_t<decltype(m)>;
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      for (Eigen::Index i = 0; i < m.rows(); ++i) m(i, j) = static_cast<typename M::Scalar>(buffer[at++]);
  };
  if (layout.rank == 0) {
    const BayesianPriors r = model.resolved_priors();
    put(model.weight_concentration());
    put(model.mean_precision());
    put(model.degrees_of_freedom());
    put(model.means());
    for (Eigen::Index k = 0; k < K; ++k) put(model.covariance(static_cast<int>(k)));
    buffer[at++] = *r.weight_concentration;
    buffer[at++] = *r.mean_precision;
    buffer[at++] = *r.degrees_of_freedom;
    put(*r.mean);
    put(*r.covariance);
    buffer[at++] = model.lower_bound();
  }
  mpi_broadcast(buffer, nullptr, comm);
  std::exception_ptr failure;
  if (layout.rank != 0) {
    try {
      at = 1;
      Eigen::MatrixXd weight_concentration(K, columns);
      Eigen::VectorXd mean_precision(K), degrees_of_freedom(K);
      typename BayesianGaussianMixture<Scalar, Dim>::Means means(K, d);
      get(weight_concentration);
      get(mean_precision);
      get(degrees_of_freedom);
      get(means);
      std::vector<typename BayesianGaussianMixture<Scalar, Dim>::Matrix> covariances;
      for (Eigen::Index k = 0; k < K; ++k) {
        typename BayesianGaussianMixture<Scalar, Dim>::Matrix c(d, d);
        get(c);
        covariances.push_back(c);
      }
      BayesianPriors r;
      r.weight_prior = model.priors().weight_prior;
      r.weight_concentration = buffer[at++];
      r.mean_precision = buffer[at++];
      r.degrees_of_freedom = buffer[at++];
      Eigen::VectorXd mean(d);
      Eigen::MatrixXd covariance(d, d);
      get(mean);
      get(covariance);
      r.mean = mean;
      r.covariance = covariance;
      model.set_posterior(weight_concentration, mean_precision, degrees_of_freedom, means, covariances, r,
                          buffer[at++]);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  mpi_check(comm, failure);
}

// Sums `stats` over the ranks with one MPI_Allreduce (the buffer carries the error flag) and raises a
// failure of any rank on every rank.
template <int Dim>
void allreduce_statistics(SufficientStatistics<Dim>& stats, std::exception_ptr failure, std::vector<double>& buffer,
                          MPI_Comm comm) {
  pack_statistics(stats, failure ? 1.0 : 0.0, buffer);
  mpi_call(MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_DOUBLE, MPI_SUM, comm),
           "MPI_Allreduce of the statistics");
  if (buffer.back() != 0) mpi_raise(comm, failure);
  unpack_statistics(buffer, stats);
}

// The `expectation` of fit_with across ranks: this rank's shard through SourceExpectation, then the
// statistics summed over the ranks by one MPI_Allreduce.
template <typename Scalar, int Dim, class Source>
class MpiExpectation {
 public:
  MpiExpectation(Source& src, int K, const MpiLayout& layout, bool marginalise, CovarianceType type, MPI_Comm comm)
      : local_(src, K, 0, layout.first_row, "fit_mpi"), comm_(comm) {
    local_.expect_rows(layout.local_rows);
    local_.set_missing(marginalise);
    buffer_.reserve(static_cast<std::size_t>(mpi_doubles_per_iteration(type, K, static_cast<int>(layout.d))));
  }
  void operator()(const Parameters<Scalar, Dim>& p, SufficientStatistics<Dim>& stats) {
    std::exception_ptr failure;
    try {
      local_(p, stats);
    } catch (...) {
      failure = std::current_exception();
    }
    allreduce_statistics(stats, failure, buffer_, comm_);
  }

 private:
  SourceExpectation<Scalar, Dim, Source> local_;
  std::vector<double> buffer_;
  MPI_Comm comm_;
};

}  // namespace detail

/// Fits `model` to data spread over the ranks of `comm`: each rank passes the RowSource of its own
/// rows (its shard; may be empty), and the data is the ranks' shards one after another in rank
/// order. Collective: every rank calls it with the same Options (checked: std::invalid_argument
/// otherwise). Every rank ends with the identical model, and the result equals `fit_source` over
/// all the rows in one process up to the rounding of the sums' order.
///
/// - Initialisation (unless warm-starting): each rank samples its shard (RowSample keyed by global
///   row index), one MPI_Allreduce with a merging operation gives every rank the sample of the whole
///   data (the same rows as `fit_source` would draw), rank 0 runs the initialisation on it and
///   broadcasts the starting parameters. A warm start broadcasts rank 0's current parameters.
/// - Each EM iteration: every rank streams its shard once through the E-step kernel; the
///   SufficientStatistics are packed into one buffer of mpi_doubles_per_iteration(type, K, d)
///   doubles, summed by one MPI_Allreduce, and every rank runs the same M-step on the same sums.
/// - Errors: when any rank fails (bad data, a file error, a numerical failure), every rank throws
///   the same exception (the lowest failing rank's type and message), so no rank is left waiting.
///
/// Requires MPI_Init. `Options::callback` must decide the same way on every rank (use the
/// iteration and lower bound, which are identical everywhere, not the time); `verbose` may differ.
/// Relies on MPI_Allreduce giving every rank the same sum, as Open MPI's and MPICH's do.
template <typename Scalar, int Dim, class Source>
FitResult fit_mpi(GaussianMixture<Scalar, Dim>& model, Source&& shard, MPI_Comm comm = MPI_COMM_WORLD,
                  const StreamOptions& stream = {}) {
  using SourceType = std::remove_reference_t<Source>;
  SourceType& src = shard;
  detail::require_mpi_init();
  const Options& options = model.options();
  const int K = options.n_components;
  const bool warm = options.warm_start && model.is_fitted();
  const bool marginalise = options.missing == MissingValues::Marginalise;

  // 1. What every rank has: its row count (or a failure) and its settings, checked against rank 0's.
  const detail::MpiLayout layout =
      detail::mpi_agree<Scalar, Dim>(src, options, stream, warm, warm ? model.n_features() : 0, {}, comm);
  const int d = static_cast<int>(layout.d);

  // 2. Starting point: rank 0's parameters (warm start), or the sample of all ranks' rows.
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> reservoir;
  if (warm) {
    std::vector<double> parameters(detail::parameters_doubles(K, d));
    if (layout.rank == 0)
      detail::pack_parameters(
          model.weights(), model.means(), [&](int k) { return model.covariance(k); }, K, d, parameters);
    detail::mpi_broadcast(parameters, nullptr, comm);
    const auto p = detail::unpack_parameters<Scalar, Dim>(parameters, K, d);
    model.set_parameters(p.weights, p.means, p.covariances);
  } else {
    reservoir = detail::mpi_initialisation_sample<Scalar, Dim>(src, options, stream, layout, marginalise, comm);
  }

  // 3. EM: local E-step over the shard, one Allreduce of the statistics, the same M-step everywhere.
  detail::MpiExpectation<Scalar, Dim, SourceType> expectation(src, K, layout, marginalise, options.covariance_type,
                                                              comm);
  return model.fit_with(
      [&](detail::Random& rng) {
        return detail::mpi_initial_parameters<Scalar, Dim>(reservoir, options, rng, layout, comm);
      },
      expectation);
}

/// fit_mpi for a BayesianGaussianMixture: the variational fit of the rows spread over the ranks of
/// `comm`, equal to `fit_source` over all the rows in one process up to the rounding of the sums' order,
/// with the same collective rules, initialisation (the merged sample, rank 0's initialisation broadcast),
/// error handling (every rank throws the same exception) and strong guarantee as fit_mpi for
/// GaussianMixture. The BayesianPriors must agree on every rank too (std::invalid_argument naming the
/// field otherwise). Its collectives: the same first ones; two MPI_Allreduce of one-component statistics
/// for the data-dependent default priors (as fit_source's two extra passes); a warm start broadcasts rank
/// 0's posterior (set_posterior); then each iteration one MPI_Allreduce of
/// mpi_doubles_per_iteration(type, K, d) doubles, after which every rank runs the same variational
/// M-step. Options::missing is not supported by BayesianGaussianMixture: a NaN is an error, as in fit.
/// \param model fitted in place \param shard this rank's RowSource (may be empty)
/// \param comm the ranks \param stream StreamOptions::reservoir_size (batch_rows must be 0)
template <typename Scalar, int Dim, class Source>
FitResult fit_mpi(BayesianGaussianMixture<Scalar, Dim>& model, Source&& shard, MPI_Comm comm = MPI_COMM_WORLD,
                  const StreamOptions& stream = {}) {
  using SourceType = std::remove_reference_t<Source>;
  SourceType& src = shard;
  detail::require_mpi_init();
  const Options& options = model.options();
  const BayesianPriors& priors = model.priors();
  const int K = options.n_components;
  const bool warm = options.warm_start && model.is_fitted();

  // 1. Rows and settings, the priors among them.
  const std::vector<detail::MpiSetting> prior_settings = {
      {"BayesianPriors::weight_prior", static_cast<std::int64_t>(priors.weight_prior)},
      {"BayesianPriors::weight_concentration", detail::bits_of(priors.weight_concentration)},
      {"BayesianPriors::mean_precision", detail::bits_of(priors.mean_precision)},
      {"BayesianPriors::mean", detail::fingerprint(priors.mean)},
      {"BayesianPriors::degrees_of_freedom", detail::bits_of(priors.degrees_of_freedom)},
      {"BayesianPriors::covariance", detail::fingerprint(priors.covariance)},
      {"StreamOptions::batch_rows", static_cast<std::int64_t>(stream.batch_rows)}};
  const detail::MpiLayout layout =
      detail::mpi_agree<Scalar, Dim>(src, options, stream, warm, warm ? model.n_features() : 0, prior_settings, comm);
  if (stream.batch_rows != 0)
    throw std::invalid_argument(detail::message("fit_mpi: StreamOptions::batch_rows must be 0 for ",
                                                "BayesianGaussianMixture (no mini-batch mode), got ",
                                                stream.batch_rows));

  // 2. The sample for the initialisation (cold start), then the data's statistics for the default priors.
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> reservoir;
  if (!warm) reservoir = detail::mpi_initialisation_sample<Scalar, Dim>(src, options, stream, layout, false, comm);
  std::vector<double> buffer;
  const SufficientStatistics<Dim> data = detail::reduced_data_statistics<Scalar, Dim>(
      src, model.data_moments(), "fit_mpi", [&](SufficientStatistics<Dim>& s, std::exception_ptr failure) {
        detail::allreduce_statistics(s, failure, buffer, comm);
      });
  const double total = model.total_weight(data);

  // 3. A warm start continues from rank 0's posterior; a throw from here on restores the model.
  std::optional<BayesianGaussianMixture<Scalar, Dim>> saved;
  if (warm) saved = model;
  try {
    if (warm) detail::broadcast_posterior(model, layout, comm);
    // 4. EM: local E-step over the shard, one Allreduce of the statistics, the same M-step everywhere.
    detail::MpiExpectation<Scalar, Dim, SourceType> expectation(src, K, layout, false, options.covariance_type, comm);
    return model.fit_with(
        data,
        [&](detail::Random& rng) {
          return model.posterior_from_parameters(
              detail::mpi_initial_parameters<Scalar, Dim>(reservoir, options, rng, layout, comm), total);
        },
        expectation);
  } catch (...) {
    if (saved) model = *saved;
    throw;
  }
}

}  // namespace gaussmix
