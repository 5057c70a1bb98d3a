// SPDX-License-Identifier: MIT
// The register-tiled kernels of the full-covariance E-step (detail::TriangularRowNorms) and statistics
// (detail::WeightedGram) against the same quantities written as plain Eigen expressions in long double,
// on shapes that hit every edge: rows not a multiple of the tile, d not a multiple of the panel, the
// part of U below the diagonal and of S above it poisoned with NaN (neither may be read or written);
// and the float-to-double sum of the per-component weights (detail::sum_in_double).

#include <gaussmix/gaussmix.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace gaussmix_test_register_kernels {

namespace {

template <typename Scalar>
using Block = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
using BlockL = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;

template <typename Scalar>
Block<Scalar> random_block(Eigen::Index rows, Eigen::Index cols, std::mt19937& rng, double offset = 0) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Block<Scalar> out(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) out(i, j) = static_cast<Scalar>(offset + normal(rng));
  return out;
}

template <typename Scalar>
void check_row_norms(Eigen::Index rows, Eigen::Index d, std::mt19937& rng) {
  using Kernel = gaussmix::detail::TriangularRowNorms<Scalar>;
  // x in a block with more rows than used (leading dimension > rows), as in the E-step workspace.
  const Eigen::Index ld = rows + 5;
  Block<Scalar> x = random_block<Scalar>(ld, d, rng, 3.0);
  Block<Scalar> mean = random_block<Scalar>(1, d, rng, 3.0);
  // An upper triangular factor with a positive diagonal; NaN below it.
  Block<Scalar> U = random_block<Scalar>(d, d, rng);
  for (Eigen::Index j = 0; j < d; ++j) {
    U(j, j) = std::abs(U(j, j)) + Scalar(1);
    for (Eigen::Index i = j + 1; i < d; ++i) U(i, j) = std::numeric_limits<Scalar>::quiet_NaN();
  }
  std::vector<Scalar> scratch(static_cast<std::size_t>(Kernel::scratch_size(d)));
  std::vector<Scalar> out(static_cast<std::size_t>(rows) + 1, Scalar(-7));
  Kernel::run(x.data(), ld, rows, d, mean.data(), U.data(), d, out.data(), scratch.data());

  const BlockL centred = (x.topRows(rows).template cast<long double>().rowwise() -
                          mean.row(0).template cast<long double>());
  const BlockL factor = U.template cast<long double>().template triangularView<Eigen::Upper>();
  const Eigen::Matrix<long double, Eigen::Dynamic, 1> exact = (centred * factor).rowwise().squaredNorm();
  // Each norm is a sum of d squares of d-term dot products: a few d epsilon relative.
  const double tolerance = 4.0 * static_cast<double>(d) * std::numeric_limits<Scalar>::epsilon();
  double worst = 0;
  for (Eigen::Index i = 0; i < rows; ++i)
    worst = std::max(worst, static_cast<double>(std::abs(out[i] - exact(i)) / exact(i)));
  INFO("rows " << rows << ", d " << d << ", worst relative error " << worst);
  CHECK(worst <= tolerance);
  CHECK(out[rows] == Scalar(-7));  // nothing written past the last row
}

template <typename Scalar>
void check_gram(Eigen::Index rows, Eigen::Index d, std::mt19937& rng) {
  using Kernel = gaussmix::detail::WeightedGram<Scalar>;
  const Eigen::Index padded = Kernel::padded_rows(rows);
  REQUIRE(padded % Kernel::packet == 0);
  REQUIRE(padded >= rows);
  const Eigen::Index ld = padded + 3;
  Block<Scalar> D = random_block<Scalar>(ld, d, rng, 2.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Block<Scalar> Q(ld, d);
  Eigen::Matrix<long double, Eigen::Dynamic, 1> r(rows);
  for (Eigen::Index i = 0; i < rows; ++i) r(i) = static_cast<long double>(static_cast<Scalar>(uniform(rng)));
  for (Eigen::Index j = 0; j < d; ++j)
    for (Eigen::Index i = 0; i < ld; ++i)
      Q(i, j) = i < rows ? static_cast<Scalar>(r(i) * static_cast<long double>(D(i, j))) : Scalar(0);
  // S starts from a known lower triangle (the kernel adds to it) and NaN above the diagonal.
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(d, d);
  for (Eigen::Index j = 0; j < d; ++j)
    for (Eigen::Index i = 0; i < d; ++i) S(i, j) = i >= j ? double(i + j) : std::numeric_limits<double>::quiet_NaN();
  Kernel::run(Q.data(), D.data(), ld, padded, d, S.data(), d);

  const BlockL Ql = Q.topRows(rows).template cast<long double>();
  const BlockL Dl = D.topRows(rows).template cast<long double>();
  const BlockL exact = Ql.transpose() * Dl;
  // A sum of `rows` products in Scalar, then added to S's double: both roundings bounded.
  const double eps = static_cast<double>(std::numeric_limits<Scalar>::epsilon());
  const double eps_double = std::numeric_limits<double>::epsilon();
  double worst = 0;
  bool upper_untouched = true;
  for (Eigen::Index b = 0; b < d; ++b)
    for (Eigen::Index a = 0; a < d; ++a) {
      if (a < b) {
        upper_untouched = upper_untouched && std::isnan(S(a, b));
        continue;
      }
      // Scale: the sum of |terms|, so that a near-zero sum is judged by what it cancelled.
      const long double scale = (Ql.col(a).cwiseAbs().transpose() * Dl.col(b).cwiseAbs()).value() + 1;
      const long double error = std::abs(static_cast<long double>(S(a, b)) - (a + b) - exact(a, b));
      const long double bound = 4 * static_cast<long double>(rows) * eps * scale +
                                4 * eps_double * (a + b + std::abs(exact(a, b)));
      worst = std::max(worst, static_cast<double>(error / bound));
    }
  INFO("rows " << rows << ", d " << d << ", worst error as a fraction of its bound " << worst);
  CHECK(worst <= 1.0);
  CHECK(upper_untouched);
}

template <typename Scalar>
void check_prepare(Eigen::Index rows, Eigen::Index d, std::mt19937& rng) {
  using Kernel = gaussmix::detail::WeightedGram<Scalar>;
  const Eigen::Index padded = Kernel::padded_rows(rows);
  const Eigen::Index ldx = rows + 2, ld = padded + 1;
  // Offset data: x - c must be formed first, or the sums lose the digits the test asks for.
  const Block<Scalar> x = random_block<Scalar>(ldx, d, rng, 1000.0);
  Eigen::MatrixXd c(2, d);  // the kernel reads row 1 of a 2 x d table (a stride of 2)
  for (Eigen::Index j = 0; j < d; ++j) {
    c(0, j) = std::numeric_limits<double>::quiet_NaN();
    c(1, j) = static_cast<double>(static_cast<Scalar>(1000.0 + 0.1 * static_cast<double>(j)));
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<Scalar> root(static_cast<std::size_t>(rows));
  for (auto& v : root) v = static_cast<Scalar>(std::sqrt(uniform(rng)));
  Block<Scalar> Q = Block<Scalar>::Constant(ld, d, std::numeric_limits<Scalar>::quiet_NaN());
  Eigen::MatrixXd first = Eigen::MatrixXd::Zero(2, d);
  first.row(0).setConstant(-3);
  Kernel::prepare(x.data(), ldx, rows, d, c.data() + 1, 2, root.data(), Q.data(), ld, first.data() + 1, 2);
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(d, d);
  Kernel::run(Q.data(), Q.data(), ld, padded, d, S.data(), d);

  BlockL centred(rows, d);
  for (Eigen::Index j = 0; j < d; ++j)
    for (Eigen::Index i = 0; i < rows; ++i)
      centred(i, j) = (static_cast<long double>(x(i, j)) - c(1, j)) * static_cast<long double>(root[i]);
  const BlockL exact_second = centred.transpose() * centred;
  const double eps = static_cast<double>(std::numeric_limits<Scalar>::epsilon());
  bool padding_zero = true;
  for (Eigen::Index j = 0; j < d; ++j)
    for (Eigen::Index i = rows; i < padded; ++i) padding_zero = padding_zero && Q(i, j) == Scalar(0);
  CHECK(padding_zero);
  CHECK((first.row(0).array() == -3.0).all());  // only the given row is touched
  double worst = 0;
  for (Eigen::Index j = 0; j < d; ++j) {
    long double exact_first = 0, scale_first = 0;
    for (Eigen::Index i = 0; i < rows; ++i) {
      exact_first += centred(i, j) * static_cast<long double>(root[i]);
      scale_first += std::abs(centred(i, j) * static_cast<long double>(root[i]));
    }
    worst = std::max(worst, static_cast<double>(std::abs(first(1, j) - exact_first) /
                                                (8 * static_cast<long double>(rows) * eps * scale_first + 1e-300L)));
    for (Eigen::Index b = 0; b <= j; ++b) {
      const long double scale = (centred.col(j).cwiseAbs().transpose() * centred.col(b).cwiseAbs()).value();
      worst = std::max(worst, static_cast<double>(std::abs(S(j, b) - exact_second(j, b)) /
                                                  (8 * static_cast<long double>(rows) * eps * scale + 1e-300L)));
    }
  }
  INFO("rows " << rows << ", d " << d << ", worst error as a fraction of its bound " << worst);
  CHECK(worst <= 1.0);
}

}  // namespace

TEST_CASE("copy_rows: rows of a row-major X into the column-major block the kernels read", "[kernels]") {
  // Shapes around the 16-row tiles of the copy and the SIMD widths; double and float; a Map with an
  // outer stride, a Matrix, and a cast.
  std::mt19937 rng(7);
  for (Eigen::Index cols : {1, 2, 7, 8, 9, 16, 17, 33})
    for (Eigen::Index rows : {1, 5, 8, 16, 23, 40}) {
      using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const RowMajor storage = random_block<double>(rows + 9, cols + 3, rng);
      const Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>> X(storage.data(), rows + 9, cols,
                                                                  Eigen::OuterStride<>(cols + 3));
      const RowMajorF Xf = X.cast<float>();
      const Eigen::Index start = 4;
      Block<double> block = Block<double>::Constant(rows + 2, cols, -1);
      Block<float> block_f = Block<float>::Constant(rows + 2, cols, -1);
      Block<float> block_cast = Block<float>::Constant(rows + 2, cols, -1);
      gaussmix::detail::copy_rows(X, start, rows, block);
      gaussmix::detail::copy_rows(Xf, start, rows, block_f);
      gaussmix::detail::copy_rows(X, start, rows, block_cast);
      INFO("rows " << rows << ", cols " << cols);
      CHECK(block.topRows(rows) == X.middleRows(start, rows));
      CHECK(block_f.topRows(rows) == Xf.middleRows(start, rows));
      CHECK(block_cast.topRows(rows) == X.middleRows(start, rows).cast<float>());
      CHECK((block.bottomRows(2).array() == -1).all());  // rows past `rows` untouched
      CHECK((block_f.bottomRows(2).array() == -1).all());
    }
}

TEST_CASE("sum_in_double: a float column summed in double, every lane and tail length", "[kernels]") {
  // Values over eight orders of magnitude and both signs; columns of a column-major block starting at
  // every offset (so at every alignment), lengths around the 16 lanes. The reference is the sum in
  // long double; a double sum of n terms is within n eps sum |x| of it.
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> exponent(-4.0, 4.0);
  std::bernoulli_distribution negative(0.3);
  Block<float> values(1100, 3);
  for (Eigen::Index j = 0; j < values.cols(); ++j)
    for (Eigen::Index i = 0; i < values.rows(); ++i)
      values(i, j) = static_cast<float>((negative(rng) ? -1.0 : 1.0) * std::pow(10.0, exponent(rng)));
  for (Eigen::Index n : {0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 100, 1000})
    for (Eigen::Index offset : {0, 1, 5, 13}) {
      const auto column = values.col(1).segment(offset, n);
      long double reference = 0, magnitude = 0;
      for (Eigen::Index i = 0; i < n; ++i) {
        reference += static_cast<long double>(column(i));
        magnitude += std::abs(static_cast<long double>(column(i)));
      }
      INFO("n " << n << ", offset " << offset);
      const double sum = gaussmix::detail::sum_in_double(column);
      CHECK(std::abs(static_cast<long double>(sum) - reference) <=
            static_cast<long double>(n) * std::numeric_limits<double>::epsilon() * magnitude);
      // double: Eigen's own sum, bit for bit (the double E-step's N_k are unchanged).
      const Eigen::VectorXd as_double = column.cast<double>();
      CHECK(gaussmix::detail::sum_in_double(as_double) == as_double.sum());
    }
}

TEST_CASE("WeightedGram::prepare: sqrt(r)(x - c) on offset data, its first moment and Q^T Q", "[kernels]") {
  std::mt19937 rng(29112026);
  for (Eigen::Index rows : {1, 7, 16, 17, 100, 257})
    for (Eigen::Index d : {1, 9, 13, 64}) {
      check_prepare<double>(rows, d, rng);
      check_prepare<float>(rows, d, rng);
    }
}

TEST_CASE("TriangularRowNorms: ||(x - m) U||^2 row by row, every tile and panel edge", "[kernels]") {
  std::mt19937 rng(20261129);
  for (Eigen::Index rows : {1, 7, 23, 24, 25, 48, 49, 100, 257})
    for (Eigen::Index d : {1, 3, 8, 9, 13, 16, 17, 64, 70}) {
      check_row_norms<double>(rows, d, rng);
      check_row_norms<float>(rows, d, rng);
    }
}

TEST_CASE("WeightedGram: the lower triangle of Q^T D added to S, the upper left alone", "[kernels]") {
  std::mt19937 rng(11292026);
  for (Eigen::Index rows : {1, 7, 16, 17, 100, 256, 257})
    for (Eigen::Index d : {1, 3, 4, 5, 6, 9, 13, 16, 17, 64, 70}) {
      check_gram<double>(rows, d, rng);
      check_gram<float>(rows, d, rng);
    }
}

}  // namespace gaussmix_test_register_kernels
