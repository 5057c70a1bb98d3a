// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "estep.hpp"
#include "gaussian_mixture.hpp"
#include "initial_parameters.hpp"
#include "options.hpp"
#include "parameters.hpp"
#include "statistics.hpp"

/// \file
/// Fitting data that is not one matrix in memory: a *row source* yields the rows block by block and
/// `fit_source` streams it once per EM iteration, so peak memory does not depend on the number of rows.
///
/// **The RowSource concept.** Any object `s` with these members is a row source:
///
/// - `Eigen::Index s.n_features() const`: d, the number of columns of every block.
/// - `void s.rewind()`: the next `next_block()` starts again at the first row.
/// - `auto s.next_block()`: the next rows, as a dense Eigen expression with `n_features()` columns
///   (float or double, either storage order); a block of 0 rows ends the pass. The rows need stay
///   valid only until the next call to `next_block()` or `rewind()`.
/// - optional, `Eigen::Index s.n_rows() const`: the number of rows, when known without a pass
///   (`fit_mpi` then saves a counting pass).
///
/// Every pass must yield the same rows in the same order; how they are cut into blocks does not
/// matter: the fit re-blocks them into the E-step's own blocks, so its result is bit-identical for
/// any block sizes. A block should be small (the library's sources default to about 1 MiB): it
/// is the source's memory, not the library's. Ready-made sources: MatrixSource (rows of an Eigen
/// matrix) and BinaryFileSource (a raw file of float32 or float64 rows).

namespace gaussmix {

/// Settings of the streamed fits (`fit_source`, `fit_mpi`) that `Options` does not cover.
struct StreamOptions {
  /// Rows of the uniform sample that the initialisation (`Options::init_params`) runs on: k-means on
  /// at most this many rows, whatever N. Costs reservoir_size * d * 8 bytes. When N <= reservoir_size
  /// the sample is all the data, in order, and the fit starts exactly as `GaussianMixture::fit` does.
  Eigen::Index reservoir_size = 10000;
  /// 0: full EM (every iteration one pass). > 0: mini-batch mode: `fit_source` streams the source in
  /// batches of this many rows through GaussianMixture::partial_fit (step sizes from Options::online),
  /// `passes` times, so a source too large for many passes is fitted in one or two.
  Eigen::Index batch_rows = 0;
  /// Mini-batch mode: passes over the source (>= 1).
  int passes = 1;
};

/// Throws std::invalid_argument naming the field of `stream` that is out of range for `options`.
inline void validate(const StreamOptions& stream, const Options& options) {
  if (stream.reservoir_size < options.n_components)
    throw std::invalid_argument(detail::message("StreamOptions::reservoir_size must be >= n_components = ",
                                                options.n_components, ", got ", stream.reservoir_size));
  if (stream.batch_rows < 0)
    throw std::invalid_argument(
        detail::message("StreamOptions::batch_rows must be >= 0 (0: full EM), got ", stream.batch_rows));
  if (stream.batch_rows > 0 && stream.batch_rows < options.n_components)
    throw std::invalid_argument(detail::message("StreamOptions::batch_rows must be >= n_components = ",
                                                options.n_components,
                                                " (the first batch initialises the model), got ", stream.batch_rows));
  if (stream.passes < 1)
    throw std::invalid_argument(detail::message("StreamOptions::passes must be >= 1, got ", stream.passes));
}

/// A RowSource over the rows of an Eigen matrix (or Map, or expression), `block_rows` at a time.
/// Zero-copy: each block is a view of the matrix, which must outlive the source.
/// \tparam D the matrix or expression type (deduced: `MatrixSource source(X);`)
template <class D>
class MatrixSource {
 public:
  /// \param X n x d data, one sample per row \param block_rows rows per block (>= 1)
  explicit MatrixSource(const Eigen::MatrixBase<D>& X, Eigen::Index block_rows = 4096)
      : X_(X.derived()), block_rows_(block_rows) {
    if (block_rows < 1)
      throw std::invalid_argument(detail::message("MatrixSource: block_rows must be >= 1, got ", block_rows));
  }

  Eigen::Index n_features() const { return X_.cols(); }  ///< d
  Eigen::Index n_rows() const { return X_.rows(); }      ///< n
  void rewind() { position_ = 0; }                       ///< the next pass starts at row 0
  /// The next at most block_rows rows; 0 rows at the end.
  auto next_block() {
    const Eigen::Index start = position_;
    const Eigen::Index rows = std::min(block_rows_, X_.rows() - start);
    position_ += rows;
    return X_.middleRows(start, rows);
  }

 private:
  // Plain matrices by reference; Maps and expressions (cheap views themselves) by value.
  using Stored = std::conditional_t<std::is_base_of_v<Eigen::PlainObjectBase<D>, D>, const D&, const D>;
  Stored X_;
  Eigen::Index block_rows_;
  Eigen::Index position_ = 0;
};

/// Deduction guide: MatrixSource over any Eigen expression.
template <class D>
MatrixSource(const Eigen::MatrixBase<D>&) -> MatrixSource<D>;
/// Deduction guide, with block_rows.
template <class D>
MatrixSource(const Eigen::MatrixBase<D>&, Eigen::Index) -> MatrixSource<D>;

/// A RowSource over a raw binary file of rows: n rows of d values of type T (float32 or float64),
/// row after row, in the machine's byte order, no header (what numpy's `X.astype('<f8').tofile(path)`
/// writes on a little-endian machine). Optionally only a slice of the rows (one rank's share).
///
/// Read with a buffered std::ifstream into one buffer of `buffer_rows()` rows (about 1 MiB by
/// default), not mmap: mapping needs address space for the whole file (it fails under `ulimit -v`
/// and counts the file in the process's RSS), is not portable C++, and buys nothing here, where
/// one sequential read per block costs a copy from the page cache, small beside the E-step.
///
/// Errors: a file that cannot be opened or read: std::runtime_error; a file size that is not a
/// multiple of the row size, a slice outside the file, or a NaN/Inf value (found when its block is
/// read; the message names the row of the file and the column): std::invalid_argument.
/// \tparam T the type of the values in the file: float or double
template <typename T>
class BinaryFileSource {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "gaussmix: BinaryFileSource holds float or double values");

 public:
  /// Rows of d values, as they come from the file, in row-major order.
  using Block = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

  /// All rows of the file at `path`, `n_features` values each.
  BinaryFileSource(const std::string& path, Eigen::Index n_features) : BinaryFileSource(path, n_features, 0, -1) {}

  /// Rows [first_row, first_row + n_rows) of the file; n_rows = -1 means up to the end.
  BinaryFileSource(const std::string& path, Eigen::Index n_features, Eigen::Index first_row, Eigen::Index n_rows)
      : path_(path), d_(n_features) {
    if (n_features < 1) throw std::invalid_argument(message("n_features must be >= 1, got ", n_features));
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) throw std::runtime_error(message("cannot open '", path, "': no such file"));
    if (std::filesystem::is_directory(status))
      throw std::runtime_error(message("cannot read '", path, "': it is a directory"));
    const std::uintmax_t bytes = std::filesystem::file_size(path, error);
    if (error) throw std::runtime_error(message("cannot read the size of '", path, "': ", error.message()));
    const std::uintmax_t row_bytes = static_cast<std::uintmax_t>(d_) * sizeof(T);
    if (bytes % row_bytes != 0)
      throw std::invalid_argument(message("'", path, "' has ", bytes, " bytes, not a multiple of the row size ", d_,
                                          " x ", sizeof(T), " = ", row_bytes,
                                          " bytes; is n_features or the value type (float32/float64) wrong?"));
    file_rows_ = static_cast<Eigen::Index>(bytes / row_bytes);
    if (n_rows < 0) n_rows = std::max<Eigen::Index>(file_rows_ - first_row, 0);
    if (first_row < 0 || first_row > file_rows_ || n_rows > file_rows_ - first_row)
      throw std::invalid_argument(message("rows [", first_row, ", ", first_row + n_rows, ") are outside '", path,
                                          "', which has ", file_rows_, " rows"));
    first_ = first_row;
    n_rows_ = n_rows;
    file_.open(path, std::ios::binary);
    if (!file_) throw std::runtime_error(message("cannot open '", path, "': ", std::strerror(errno)));
    set_buffer_rows(std::max<Eigen::Index>(1, (Eigen::Index{1} << 20) / static_cast<Eigen::Index>(row_bytes)));
    rewind();
  }

  /// Part `part` of `parts` near-equal slices, rows [part n / parts, (part + 1) n / parts): the share of
  /// rank `part` of `parts` ranks.
  static BinaryFileSource part(const std::string& path, Eigen::Index n_features, int part, int parts) {
    if (parts < 1 || part < 0 || part >= parts)
      throw std::invalid_argument(
          detail::message("BinaryFileSource::part: part ", part, " of ", parts, " is not in [0, parts)"));
    const Eigen::Index n = BinaryFileSource(path, n_features).file_rows();
    const Eigen::Index first = n / parts * part + n % parts * part / parts;
    const Eigen::Index last = n / parts * (part + 1) + n % parts * (part + 1) / parts;
    return BinaryFileSource(path, n_features, first, last - first);
  }

  Eigen::Index n_features() const { return d_; }  ///< d
  /// Rows of this source (of its slice).
  Eigen::Index n_rows() const { return n_rows_; }
  /// Rows of the whole file.
  Eigen::Index file_rows() const { return file_rows_; }
  /// Index in the file of this source's first row.
  Eigen::Index first_row() const { return first_; }
  const std::string& path() const { return path_; }  ///< the file

  /// Rows read per block.
  Eigen::Index buffer_rows() const { return static_cast<Eigen::Index>(buffer_.size()) / d_; }
  /// Rows read per block (>= 1): the source's whole memory is this many rows of T.
  void set_buffer_rows(Eigen::Index rows) {
    if (rows < 1) throw std::invalid_argument(message("buffer_rows must be >= 1, got ", rows));
    buffer_.assign(static_cast<std::size_t>(rows * d_), T(0));
    buffer_.shrink_to_fit();
  }

  /// The next pass starts at the slice's first row.
  void rewind() {
    file_.clear();
    file_.seekg(static_cast<std::streamoff>(first_) * d_ * static_cast<std::streamoff>(sizeof(T)));
    if (!file_) throw std::runtime_error(message("cannot seek in '", path_, "'"));
    position_ = 0;
  }

  /// The next rows (at most buffer_rows()), checked finite; 0 rows at the end of the slice.
  Block next_block() {
    const Eigen::Index rows = std::min(buffer_rows(), n_rows_ - position_);
    if (rows > 0) {
      const std::streamsize bytes = static_cast<std::streamsize>(rows * d_ * static_cast<Eigen::Index>(sizeof(T)));
      file_.read(reinterpret_cast<char*>(buffer_.data()), bytes);
      if (file_.gcount() != bytes)
        throw std::runtime_error(message("'", path_, "' ended early while reading rows [", first_ + position_, ", ",
                                         first_ + position_ + rows, "); was it truncated during the fit?"));
    }
    Block block(buffer_.data(), rows, d_);
    if (!block.allFinite()) {
      for (Eigen::Index i = 0; i < rows; ++i)
        for (Eigen::Index j = 0; j < d_; ++j)
          if (!std::isfinite(block(i, j)))
            throw std::invalid_argument(message("row ", first_ + position_ + i, " of '", path_, "' has ", block(i, j),
                                                " in column ", j, " (NaN or Inf)"));
    }
    position_ += rows;
    return block;
  }

 private:
  template <class... Parts>
  static std::string message(const Parts&... parts) {
    return detail::message("BinaryFileSource: ", parts...);
  }

  std::string path_;
  Eigen::Index d_;
  Eigen::Index file_rows_ = 0;
  Eigen::Index first_ = 0;
  Eigen::Index n_rows_ = 0;
  Eigen::Index position_ = 0;  // rows of the slice read so far in this pass
  std::vector<T> buffer_;
  std::ifstream file_;
};

namespace detail {

template <class S, class = void>
struct has_n_rows : std::false_type {};
template <class S>
struct has_n_rows<S, std::void_t<decltype(std::declval<const S&>().n_rows())>> : std::true_type {};

// Rows of a source: n_rows() when it has one, else one counting pass.
template <class Source>
Eigen::Index count_rows(Source& source) {
  if constexpr (has_n_rows<Source>::value) {
    return static_cast<Eigen::Index>(source.n_rows());
  } else {
    Eigen::Index n = 0;
    source.rewind();
    for (;;) {
      const auto block = source.next_block();
      if (block.rows() == 0) return n;
      n += block.rows();
    }
  }
}

// d of a source, checked against Dim and (when warm-starting) the model's parameters.
template <int Dim, class Source>
Eigen::Index check_source_features(const Source& source, Eigen::Index model_features, const char* where) {
  const Eigen::Index d = source.n_features();
  if (d < 1) throw std::invalid_argument(message(where, ": the source has ", d, " features"));
  if (Dim != Eigen::Dynamic && d != Dim)
    throw std::invalid_argument(message(where, ": the source has ", d, " features but the model's Dim is ", Dim));
  if (model_features > 0 && d != model_features)
    throw std::invalid_argument(message(where, ": the source has ", d, " features but the model has ", model_features));
  return d;
}

// Seed of the sample's keys, derived from Options::seed apart from the runs' seeds.
inline std::uint64_t sample_seed(std::uint64_t seed) { return run_seed(seed ^ 0x243F6A8885A308D3ull, 0); }

// Calls fn(rows) for the rows of one pass of `source` copied into `buffer` (converted to its scalar),
// in full buffers of buffer.rows() rows (the last one shorter), whatever the source's block sizes.
template <class Source, class Buffer, class Fn>
void for_each_buffer(Source& source, Buffer& buffer, Fn&& fn) {
  const Eigen::Index capacity = buffer.rows();
  Eigen::Index filled = 0;
  source.rewind();
  for (;;) {
    const auto block = source.next_block();
    const Eigen::Index rows = block.rows();
    if (rows == 0) break;
    if (block.cols() != buffer.cols())
      throw std::invalid_argument(
          message("a source block has ", block.cols(), " columns, but the source has ", buffer.cols(), " features"));
    for (Eigen::Index used = 0; used < rows;) {
      const Eigen::Index take = std::min(capacity - filled, rows - used);
      buffer.middleRows(filled, take) = block.middleRows(used, take).template cast<typename Buffer::Scalar>();
      filled += take;
      used += take;
      if (filled == capacity) {
        fn(filled);
        filled = 0;
      }
    }
  }
  if (filled > 0) fn(filled);
}

}  // namespace detail

/// A uniform random sample without replacement of at most `capacity` rows of a stream, that can be
/// merged: each row gets a pseudo-random key from (seed, its global row index) and the sample keeps
/// the rows with the smallest keys ("bottom-k" sampling). Unlike Algorithm R, the sample of a union
/// is the sample of the parts' samples, so shards sampled apart (MPI ranks) give exactly the sample
/// of the whole data, whatever the number of shards or the order they are read in.
class RowSample {
 public:
  /// One kept row: its key, its global row index, and its values at slot * d in the storage.
  struct Entry {
    std::uint64_t key;  ///< smaller keys are kept
    std::uint64_t row;  ///< global row index
    std::size_t slot;   ///< values at slot * d in the storage
  };

  /// Keeps at most `capacity` rows of d values; `seed` keys the rows.
  RowSample(Eigen::Index capacity, Eigen::Index d, std::uint64_t seed)
      : capacity_(static_cast<std::size_t>(capacity)), d_(static_cast<std::size_t>(d)), seed_(seed) {}

  /// Key of global row `row`: a bijective mix of (seed, row), so distinct rows never tie.
  std::uint64_t key(std::uint64_t row) const { return detail::run_seed(seed_, row); }

  /// Offers global row `row` with values `x` (1 x d, any scalar).
  template <class Row>
  void offer(std::uint64_t row, const Eigen::MatrixBase<Row>& x) {
    if (capacity_ == 0) return;
    const std::uint64_t k = key(row);
    if (heap_.size() == capacity_ && !(k < heap_.front().key)) return;
    double* target = admit(k, row);
    Eigen::Map<Eigen::Matrix<double, 1, Eigen::Dynamic>>(target, static_cast<Eigen::Index>(d_)) =
        x.template cast<double>();
  }

  /// Offers a row with a known key (merging samples); `x` points to d doubles.
  void offer_keyed(std::uint64_t k, std::uint64_t row, const double* x) {
    if (capacity_ == 0) return;
    if (heap_.size() == capacity_ && !(k < heap_.front().key)) return;
    std::copy(x, x + d_, admit(k, row));
  }

  Eigen::Index size() const { return static_cast<Eigen::Index>(heap_.size()); }        ///< rows kept
  Eigen::Index capacity() const { return static_cast<Eigen::Index>(capacity_); }     ///< most rows kept
  Eigen::Index n_features() const { return static_cast<Eigen::Index>(d_); }          ///< d
  std::uint64_t seed() const { return seed_; }                                       ///< keys the rows
  /// The d values of an entry.
  const double* values(const Entry& e) const { return data_.data() + e.slot * d_; }

  /// The kept entries sorted by `less` (e.g. by key, or by row).
  template <class Less>
  std::vector<Entry> entries(Less&& less) const {
    std::vector<Entry> out = heap_;
    std::sort(out.begin(), out.end(), less);
    return out;
  }

  /// The kept rows in data order (ascending global row index), converted to Scalar.
  template <typename Scalar, int Dim = Eigen::Dynamic>
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> rows_in_order() const {
    const auto sorted = entries([](const Entry& a, const Entry& b) { return a.row < b.row; });
    Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> out(static_cast<Eigen::Index>(sorted.size()),
                                                   static_cast<Eigen::Index>(d_));
    for (std::size_t i = 0; i < sorted.size(); ++i)
      out.row(static_cast<Eigen::Index>(i)) =
          Eigen::Map<const Eigen::Matrix<double, 1, Eigen::Dynamic>>(values(sorted[i]), static_cast<Eigen::Index>(d_))
              .template cast<Scalar>();
    return out;
  }

 private:
  // Makes room for (key, row), evicting the largest key when full; returns where its d values go.
  double* admit(std::uint64_t k, std::uint64_t row) {
    auto by_key = [](const Entry& a, const Entry& b) { return a.key < b.key; };
    std::size_t slot;
    if (heap_.size() == capacity_) {
      std::pop_heap(heap_.begin(), heap_.end(), by_key);
      slot = heap_.back().slot;
      heap_.back() = Entry{k, row, slot};
    } else {
      slot = heap_.size();
      data_.resize((slot + 1) * d_);
      heap_.push_back(Entry{k, row, slot});
    }
    std::push_heap(heap_.begin(), heap_.end(), by_key);
    return data_.data() + slot * d_;
  }

  std::size_t capacity_;
  std::size_t d_;
  std::uint64_t seed_;
  std::vector<Entry> heap_;   // max-heap by key
  std::vector<double> data_;  // d values per slot
};

namespace detail {

// Under Options::missing = Marginalise a NaN is a missing entry: a row may have NaN but not Inf, nor be all NaN.
template <class Row>
void check_missing_row(const Row& row, Eigen::Index index, const char* where) {
  for (Eigen::Index j = 0; j < row.size(); ++j)
    if (std::isinf(row(j)))
      throw std::invalid_argument(message(where, ": row ", index, " of the data is infinite in column ", j,
                                          " (NaN marks a missing value, Inf is an error)"));
  if (row.array().isNaN().all())
    throw std::invalid_argument(message(where, ": row ", index, " of the data has every entry missing (NaN)"));
}

// One pass over `source`: checks every value is finite (with `allow_missing`, check_missing_row) and offers
// row first_row + i to `sample`. Returns the number of rows.
template <class Source>
Eigen::Index sample_source(Source& source, RowSample& sample, Eigen::Index first_row, const char* where,
                           bool allow_missing = false) {
  Eigen::Index n = 0;
  source.rewind();
  for (;;) {
    const auto block = source.next_block();
    const Eigen::Index rows = block.rows();
    if (rows == 0) return n;
    if (block.cols() != sample.n_features())
      throw std::invalid_argument(message(where, ": a source block has ", block.cols(), " columns, but the source has ",
                                          sample.n_features(), " features"));
    if (!block.allFinite()) {
      for (Eigen::Index i = 0; i < rows; ++i) {
        if (allow_missing) {
          check_missing_row(block.row(i), first_row + n + i, where);
          continue;
        }
        if (!block.row(i).allFinite())
          throw std::invalid_argument(
              message(where, ": row ", first_row + n + i, " of the data is not finite (NaN or Inf)"));
      }
    }
    for (Eigen::Index i = 0; i < rows; ++i) sample.offer(static_cast<std::uint64_t>(first_row + n + i), block.row(i));
    n += rows;
  }
}

}  // namespace detail

namespace detail {

// fit_source's mini-batch mode: partial_fit over batches of stream.batch_rows rows, stream.passes times,
// on a copy of the model (a fresh one unless warm-starting), swapped in at the end (strong guarantee).
// history: per pass, the mean log-likelihood of its rows, each under the parameters before its batch's update.
template <typename Scalar, int Dim, class Source>
FitResult fit_source_mini_batch(GaussianMixture<Scalar, Dim>& model, Source& src, const StreamOptions& stream,
                                Eigen::Index d) {
  const Options& options = model.options();
  const bool warm = options.warm_start && model.is_fitted();
  GaussianMixture<Scalar, Dim> work = warm ? model : GaussianMixture<Scalar, Dim>(options);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> buffer(stream.batch_rows, d);
  FitResult result;
  Eigen::Index expected = -1;
  for (int pass = 0; pass < stream.passes; ++pass) {
    double total = 0;
    Eigen::Index rows_in_pass = 0;
    for_each_buffer(src, buffer, [&](Eigen::Index rows) {
      if (!work.is_fitted() && rows < options.n_components)
        throw std::invalid_argument(message("fit_source: the source has ", rows, " rows, fewer than n_components = ",
                                            options.n_components));
      const FitResult step = work.partial_fit(buffer.topRows(rows));
      total += step.lower_bound * static_cast<double>(rows);
      rows_in_pass += rows;
      ++result.n_iter;
    });
    if (rows_in_pass == 0)
      throw std::invalid_argument(message("fit_source: the source has 0 rows, fewer than n_components = ",
                                          options.n_components));
    if (expected >= 0 && rows_in_pass != expected)
      throw std::invalid_argument(message("fit_source: the source gave ", rows_in_pass, " rows in this pass and ",
                                          expected, " before; a source must give the same rows on every pass"));
    expected = rows_in_pass;
    const double lower_bound = total / static_cast<double>(rows_in_pass);
    const double change = result.history.empty() ? std::numeric_limits<double>::infinity()
                                                 : lower_bound - result.history.back();
    result.history.push_back(lower_bound);
    result.lower_bound = lower_bound;
    if (options.callback && !options.callback(IterationInfo{0, pass + 1, lower_bound, change, 0.0})) {
      result.stopped = true;
      break;
    }
  }
  model = std::move(work);
  return result;
}

}  // namespace detail

/// The E-step over one pass of a RowSource: streams the rows through the E-step kernel
/// (weighted_log_prob, normalise, accumulate) in blocks of detail::block_rows<Scalar>(d) rows and adds
/// their sums to the SufficientStatistics; usable as `expectation` of GaussianMixture::fit_with. Blocks
/// are summed in groups of `blocks_per_group` before entering the total, which keeps the rounding
/// of long sums small. Memory: one EStepWorkspace and two statistics, whatever N.
template <typename Scalar, int Dim, class Source>
class SourceExpectation {
 public:
  /// Blocks summed into a group before the group is added to the total.
  static constexpr int blocks_per_group = 64;

  /// \param source the rows, read once per pass \param n_components K
  /// \param min_rows fewer rows in a pass is an error (n_components; 0 for one shard of the data)
  /// \param first_row global index of the source's first row, for messages
  /// \param where the function named in messages
  SourceExpectation(Source& source, int n_components, Eigen::Index min_rows = 0, Eigen::Index first_row = 0,
                    const char* where = "fit_source")
      : source_(source),
        ws_(source.n_features(), n_components),
        min_rows_(min_rows),
        first_row_(first_row),
        where_(where) {}

  /// Options::missing = Marginalise: rows with NaN contribute their expected statistics (MissingRows).
  void set_missing(bool marginalise) { missing_ = marginalise; }

  /// Rows every pass must have (-1: not known yet; then the first pass sets it).
  void expect_rows(Eigen::Index n) { expected_rows_ = n; }
  /// Rows of the last pass.
  Eigen::Index rows() const { return rows_; }

  /// Adds the sums over one pass of the source to `stats` (reset about p.means by the caller).
  void operator()(const Parameters<Scalar, Dim>& p, SufficientStatistics<Dim>& stats) {
    group_.reset(stats.type, stats.reference);
    int blocks = 0;
    Eigen::Index seen = 0;
    detail::for_each_buffer(source_, ws_.x, [&](Eigen::Index rows) {
      const auto x = ws_.x.topRows(rows);
      if (!x.allFinite()) {
        for (Eigen::Index i = 0; i < rows; ++i) {
          if (missing_) {
            detail::check_missing_row(x.row(i), first_row_ + seen + i, where_);
            continue;
          }
          if (!x.row(i).allFinite())
            throw std::invalid_argument(detail::message(where_, ": row ", first_row_ + seen + i,
                                                        " of the data is not finite (NaN or Inf) as ",
                                                        sizeof(Scalar) == 4 ? "float" : "double"));
        }
      }
      const Eigen::Index incomplete = missing_ ? missing_rows_.log_prob(p, rows, ws_, true) : 0;
      if (!missing_) weighted_log_prob(p, rows, ws_);
      normalise(rows, ws_);
      for (Eigen::Index i = 0; i < rows; ++i)
        if (!std::isfinite(ws_.log_norm(i)))
          throw NumericalError(detail::message(where_, ": row ", first_row_ + seen + i,
                                               " has zero density under every component; the data may be too "
                                               "extreme for the Scalar type"));
      if (incomplete == 0) {
        accumulate(0, rows, nullptr, ws_, group_);
      } else {  // as BlockedExpectation: complete rows as always, then the expected sums of the others
        missing_rows_.accumulate_complete(0, rows, nullptr, ws_, group_);
        missing_rows_.accumulate(0, nullptr, group_);
      }
      seen += rows;
      if (++blocks == blocks_per_group) {
        stats += group_;
        group_.reset(stats.type, stats.reference);
        blocks = 0;
      }
    });
    if (blocks > 0) stats += group_;
    rows_ = seen;
    if (expected_rows_ >= 0 && seen != expected_rows_)
      throw std::invalid_argument(detail::message(where_, ": the source gave ", seen, " rows in this pass and ",
                                                  expected_rows_,
                                                  " before; a source must give the same rows on every pass"));
    expected_rows_ = seen;
    if (seen < min_rows_)
      throw std::invalid_argument(
          detail::message(where_, ": the source has ", seen, " rows, fewer than n_components = ", min_rows_));
  }

 private:
  Source& source_;
  EStepWorkspace<Scalar, Dim> ws_;
  SufficientStatistics<Dim> group_;
  bool missing_ = false;
  MissingRows<Scalar, Dim> missing_rows_;
  Eigen::Index min_rows_;
  Eigen::Index first_row_;
  const char* where_;
  Eigen::Index expected_rows_ = -1;
  Eigen::Index rows_ = 0;
};

/// Fits `model` to the rows of a RowSource (see the top of stream.hpp) without holding them in
/// memory: the GaussianMixture::fit of data larger than memory, with the same Options semantics
/// (n_init, warm_start, tol, max_iter, callback, verbose).
///
namespace detail {

/// fit_source's initialisation sample (GaussianMixture and BayesianGaussianMixture): unless `warm`, one
/// pass draws a uniform sample of stream.reservoir_size rows, kept in source order, and tells
/// `expectation` the source's row count; empty when warm. `allow_missing`: rows may have NaN
/// (GaussianMixture with Options::missing = Marginalise).
template <typename Scalar, int Dim, class Source, class Expectation>
Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> initialisation_sample(Source& src, Expectation& expectation,
                                                                 const Options& options, const StreamOptions& stream,
                                                                 Eigen::Index d, bool warm,
                                                                 bool allow_missing = false) {
  if (warm) return {};
  RowSample sample(stream.reservoir_size, d, sample_seed(options.seed));
  const Eigen::Index n = sample_source(src, sample, 0, "fit_source", allow_missing);
  if (n < options.n_components)
    throw std::invalid_argument(
        message("fit_source: the source has ", n, " rows, fewer than n_components = ", options.n_components));
  expectation.expect_rows(n);
  return sample.rows_in_order<Scalar, Dim>();
}

}  // namespace detail

/// Unless warm-starting: one pass draws a uniform sample of StreamOptions::reservoir_size rows
/// (RowSample, keyed by Options::seed) and checks the data; each run's initialisation
/// (Options::init_params, with that run's engine) works on the sample. Then every EM iteration is
/// one pass of the source through the E-step kernel into SufficientStatistics, and one M-step.
/// Peak memory: the source's buffer, the sample and one E-step workspace; independent of N.
/// Every pass must give the same rows (std::invalid_argument otherwise). Strong guarantee.
///
/// Mini-batch mode (StreamOptions::batch_rows > 0): instead, the rows are cut into batches of batch_rows
/// rows, in order, each one GaussianMixture::partial_fit update (the first initialises the model from its
/// batch unless warm-starting), for StreamOptions::passes passes. FitResult: n_iter = updates, history = per
/// pass the mean log-likelihood of its rows under the parameters before their batch's update; converged is false.
/// \param model fitted in place (strong guarantee) \param source a RowSource; it is rewound before each pass
/// \param stream StreamOptions: the sample size
template <typename Scalar, int Dim, class Source>
FitResult fit_source(GaussianMixture<Scalar, Dim>& model, Source&& source, const StreamOptions& stream = {}) {
  using SourceType = std::remove_reference_t<Source>;
  SourceType& src = source;
  const Options& options = model.options();
  const bool warm = options.warm_start && model.is_fitted();
  const Eigen::Index d = detail::check_source_features<Dim>(src, warm ? model.n_features() : 0, "fit_source");
  validate(stream, options);
  if (stream.batch_rows > 0) return detail::fit_source_mini_batch(model, src, stream, d);
  SourceExpectation<Scalar, Dim, SourceType> expectation(src, options.n_components, options.n_components, 0,
                                                         "fit_source");
  expectation.set_missing(options.missing == MissingValues::Marginalise);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Dim> reservoir =
      detail::initialisation_sample<Scalar, Dim>(src, expectation, options, stream, d, warm,
                                                 options.missing == MissingValues::Marginalise);
  // Under Marginalise the initialisers see the sample with its NaNs filled by the sample's column means.
  if (options.missing == MissingValues::Marginalise && reservoir.hasNaN())
    detail::fill_with_column_means(reservoir, nullptr, "fit_source");
  return model.fit_with(
      [&](detail::Random& rng) { return initial_parameters<Scalar, Dim>(reservoir, nullptr, options, rng); },
      expectation);
}

}  // namespace gaussmix
