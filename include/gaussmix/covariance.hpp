// SPDX-License-Identifier: MIT
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "detail/triangular_row_norms.hpp"
#include "detail/validation.hpp"
#include "options.hpp"

namespace gaussmix {

/// The covariances of all K components, in the compact storage of their `CovarianceType`, each with
/// the factor its density needs: for Full and Tied an upper triangular \f$U\f$ with
/// \f$\Sigma^{-1} = U U^T\f$; for Diagonal and Spherical \f$1/\sigma\f$ per variance.
/// \tparam Scalar float or double \tparam Dim compile-time d or Eigen::Dynamic
template <typename Scalar, int Dim = Eigen::Dynamic>
class Covariances {
 public:
  using Matrix = Eigen::Matrix<Scalar, Dim, Dim>;  ///< d x d in Scalar
  using MatrixD = Eigen::Matrix<double, Dim, Dim>;  ///< d x d in double
  using RowVector = Eigen::Matrix<Scalar, 1, Dim>;  ///< 1 x d
  using Block = Eigen::Matrix<Scalar, Eigen::Dynamic, Dim>;  ///< rows x d
  using Column = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;  ///< rows x 1
  using Table = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< rows x K

  Covariances() = default;

  CovarianceType type() const { return type_; }         ///< how the covariances are parametrised
  int n_components() const { return n_components_; }  ///< K
  int n_features() const { return n_features_; }      ///< d

  /// The dense d x d covariance of component k, whatever the type.
  Matrix dense(int k) const {
    switch (type_) {
      case CovarianceType::Full:
        return matrix_[k];
      case CovarianceType::Tied:
        return matrix_[0];
      case CovarianceType::Diagonal:
        return Matrix(variance_.row(k).transpose().asDiagonal());
      case CovarianceType::Spherical: {
        Matrix out = Matrix::Identity(n_features_, n_features_);
        return out * variance_(k, 0);
      }
    }
    return Matrix();
  }

  /// Dense covariance in double, used where an update must not lose the model's digits.
  MatrixD dense_double(int k) const { return dense(k).template cast<double>(); }

  /// Full and Tied: the upper triangular \f$U_k\f$ with \f$\Sigma_k^{-1} = U_k U_k^T\f$ (scikit-learn's
  /// `precisions_cholesky_[k]`); Tied has one for every k.
  const Matrix& precision_factor(int k) const { return precision_factor_[type_ == CovarianceType::Tied ? 0 : k]; }

  /// \f$\log\det U_k = -\tfrac12 \log\det\Sigma_k\f$.
  Scalar log_det_precision_factor(int k) const { return log_det_(type_ == CovarianceType::Tied ? 0 : k); }

  /// out(i) = constant - 0.5 * (x_i - mean)^T Sigma_k^{-1} (x_i - mean) for every row of `x`, a
  /// column-major block. `diff`, `scaled` (x's shape) and `scratch` (resized when too small) are
  /// caller-owned scratch, so the call does not allocate once they have grown.
  /// Column by column, so every operation runs vectorised down a column of the block.
  template <class X, class Mean, class Out, class Diff, class Scaled>
  void log_density(const X& x, const Mean& mean, int k, Scalar constant, Out&& out, Diff&& diff, Scaled&& scaled,
                   Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& scratch) const {
    const Eigen::Index d = x.cols();
    auto maha = out.array();
    switch (type_) {
      case CovarianceType::Full:
      case CovarianceType::Tied: {
        const Matrix& factor = precision_factor_[type_ == CovarianceType::Full ? k : 0];
        if (d > small_dimension) {
          // The register-tiled kernel: no n x d product written and read back, no packing of the block.
          using Kernel = detail::TriangularRowNorms<Scalar>;
          const Eigen::Index need = d + Kernel::scratch_size(d);
          if (scratch.size() < need) scratch.resize(need);
          Eigen::Map<Eigen::Matrix<Scalar, 1, Eigen::Dynamic>>(scratch.data(), d) = mean;
          Kernel::run(x.data(), x.outerStride(), x.rows(), d, scratch.data(), factor.data(), factor.outerStride(),
                      out.data(), scratch.data() + d);
          break;
        }
        // y_j = sum_{i <= j} diff_i U_ij: d(d+1)/2 column updates beat a general product here.
        diff.noalias() = x.rowwise() - mean;
        for (Eigen::Index j = 0; j < d; ++j) {
          auto y = scaled.col(j).array();
          y = diff.col(0).array() * factor(0, j);
          for (Eigen::Index i = 1; i <= j; ++i) y += diff.col(i).array() * factor(i, j);
        }
        maha = scaled.col(0).array().square();
        for (Eigen::Index j = 1; j < d; ++j) maha += scaled.col(j).array().square();
        break;
      }
      case CovarianceType::Diagonal:
        maha = ((x.col(0).array() - mean(0)) * precision_sqrt_(k, 0)).square();
        for (Eigen::Index j = 1; j < d; ++j) maha += ((x.col(j).array() - mean(j)) * precision_sqrt_(k, j)).square();
        break;
      case CovarianceType::Spherical: {
        maha = (x.col(0).array() - mean(0)).square();
        for (Eigen::Index j = 1; j < d; ++j) maha += (x.col(j).array() - mean(j)).square();
        maha *= precision_sqrt_(k, 0) * precision_sqrt_(k, 0);
        break;
      }
    }
    maha = constant - Scalar(0.5) * maha;
  }

  /// Diagonal: K x d, Spherical: K x 1 table of \f$1/\sigma\f$ (empty for Full and Tied).
  const Table& inverse_standard_deviations() const { return precision_sqrt_; }

  /// Up to this d, triangular products are written as column updates; above it they run in
  /// detail::TriangularRowNorms.
  static constexpr Eigen::Index small_dimension = 8;

  /// Covariance parameters that a model of this type estimates (scikit-learn's count).
  static long n_parameters(CovarianceType type, long K, long d) {
    switch (type) {
      case CovarianceType::Full:
        return K * d * (d + 1) / 2;
      case CovarianceType::Diagonal:
        return K * d;
      case CovarianceType::Tied:
        return d * (d + 1) / 2;
      case CovarianceType::Spherical:
        return K;
    }
    return 0;
  }

  /// Builds the storage for K components from estimates in double: `full` holds K (Full) or 1 (Tied)
  /// matrices, `variances` K x d (Diagonal) or K x 1 (Spherical). Throws NumericalError naming the
  /// component when a covariance is not numerically positive definite.
  static Covariances from_estimates(CovarianceType type, int K, int d, const std::vector<MatrixD>& full,
                                    const Eigen::MatrixXd& variances, double reg_covar) {
    Covariances c;
    const Failure failure = c.build(type, K, d, full, variances);
    const int failed = failure.component;
    if (failed < 0) return c;
    if (failure.not_finite)
      throw NumericalError(detail::message(
          type == CovarianceType::Tied ? std::string("the shared (tied) covariance")
                                       : "component " + std::to_string(failed) + "'s covariance",
          " is not finite (it overflows ", sizeof(Scalar) == 4 ? "float" : "double",
          "): the data's spread, a far outlier or reg_covar = ", reg_covar,
          " is beyond the range of the type. Rescale the data (or use double)"));
    if (type == CovarianceType::Tied)
      throw NumericalError(detail::message(
          "the shared (tied) covariance is not positive definite even after adding reg_covar = ", reg_covar,
          " to its diagonal; the data may be degenerate (constant or collinear columns). Increase "
          "Options::reg_covar"));
    throw NumericalError(
        detail::message("component ", failed,
                        " has a covariance that is not positive definite even after adding reg_covar = ", reg_covar,
                        " to its diagonal; it may have collapsed onto too few distinct points. Increase "
                        "Options::reg_covar, or use fewer components"));
  }

  /// Builds the storage from K dense matrices given by a user (set_parameters): checks each is
  /// symmetric, of the type's shape and positive definite; throws std::invalid_argument otherwise.
  static Covariances from_dense(CovarianceType type, int d, const std::vector<Matrix>& given) {
    const int K = static_cast<int>(given.size());
    const double tol = std::sqrt(static_cast<double>(std::numeric_limits<Scalar>::epsilon()));
    std::vector<MatrixD> full;
    Eigen::MatrixXd variances(K, type == CovarianceType::Spherical ? 1 : d);
    for (int k = 0; k < K; ++k) {
      if (given[k].rows() != d || given[k].cols() != d)
        throw std::invalid_argument(detail::message("set_parameters: covariance ", k, " is ", given[k].rows(), " x ",
                                                    given[k].cols(), ", expected ", d, " x ", d));
      const MatrixD m = given[k].template cast<double>();
      if (!m.allFinite())
        throw std::invalid_argument(detail::message("set_parameters: covariance ", k, " is not finite"));
      const double scale = std::max(m.cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
      if ((m - m.transpose()).cwiseAbs().maxCoeff() > tol * scale)
        throw std::invalid_argument(detail::message("set_parameters: covariance ", k, " is not symmetric"));
      const MatrixD sym = 0.5 * (m + m.transpose());
      const double off_diagonal = (sym - MatrixD(sym.diagonal().asDiagonal())).cwiseAbs().maxCoeff();
      switch (type) {
        case CovarianceType::Full:
          full.push_back(sym);
          break;
        case CovarianceType::Tied:
          if (k > 0 && (sym - full[0]).cwiseAbs().maxCoeff() > tol * scale)
            throw std::invalid_argument(detail::message(
                "set_parameters: covariance ", k, " differs from covariance 0, but Tied needs one shared matrix"));
          if (k == 0) full.push_back(sym);
          break;
        case CovarianceType::Diagonal:
          if (off_diagonal > tol * scale)
            throw std::invalid_argument(detail::message(
                "set_parameters: covariance ", k, " has non-zero off-diagonal entries, but the type is Diagonal"));
          variances.row(k) = sym.diagonal().transpose();
          break;
        case CovarianceType::Spherical: {
          const double mean = sym.diagonal().mean();
          if (off_diagonal > tol * scale || (sym.diagonal().array() - mean).abs().maxCoeff() > tol * scale)
            throw std::invalid_argument(detail::message(
                "set_parameters: covariance ", k, " is not a multiple of the identity, but the type is Spherical"));
          variances(k, 0) = sym(0, 0);  // not the mean: a saved model must reload bit for bit
          break;
        }
      }
    }
    Covariances c;
    const int failed = c.build(type, K, d, full, variances).component;
    if (failed >= 0)
      throw std::invalid_argument(detail::message("set_parameters: covariance ", failed, " is not positive definite"));
    return c;
  }

 private:
  struct Failure {
    int component = -1;       // first component that failed, -1 for none
    bool not_finite = false;  // its matrix (or factor) overflowed, rather than being singular
  };

  // Fills the storage and factors; reports the first component that is not numerically positive
  // definite (pivot below d * eps * largest variance) or not finite in Scalar. The factor is taken
  // of the matrix as stored in Scalar, so a float model's own covariances always reload.
  Failure build(CovarianceType type, int K, int d, const std::vector<MatrixD>& full, const Eigen::MatrixXd& variances) {
    auto singular = [](auto k) { return Failure{static_cast<int>(k), false}; };
    auto overflow = [](auto k) { return Failure{static_cast<int>(k), true}; };
    type_ = type;
    n_components_ = K;
    n_features_ = d;
    if (type == CovarianceType::Full || type == CovarianceType::Tied) {
      matrix_.resize(full.size());
      precision_factor_.resize(full.size());
      Eigen::VectorXd log_det(full.size());
      for (std::size_t k = 0; k < full.size(); ++k) {
        matrix_[k] = full[k].template cast<Scalar>();
        if (!matrix_[k].allFinite()) return overflow(k);  // NaN here comes from inf - inf
        const MatrixD sigma = matrix_[k].template cast<double>();
        Eigen::LLT<MatrixD> llt(sigma);
        const double pivot_floor = std::numeric_limits<double>::epsilon() * d * sigma.diagonal().cwiseAbs().maxCoeff();
        if (llt.info() != Eigen::Success || !(llt.matrixLLT().diagonal().array().square() > pivot_floor).all())
          return singular(k);
        // U = L^{-T}: a triangular solve, never an explicit inverse.
        MatrixD factor = MatrixD::Identity(d, d);
        llt.matrixL().solveInPlace(factor);
        precision_factor_[k] = factor.transpose().template cast<Scalar>();
        log_det(k) = -llt.matrixLLT().diagonal().array().log().sum();
        if (!precision_factor_[k].allFinite()) return singular(k);  // a variance near Scalar's min
      }
      log_det_ = log_det.cast<Scalar>();
    } else {
      for (Eigen::Index k = 0; k < variances.rows(); ++k)
        for (Eigen::Index j = 0; j < variances.cols(); ++j) {
          const double v = variances(k, j);
          const Scalar inverse_sqrt = static_cast<Scalar>(1.0 / std::sqrt(v));
          const Scalar precision = inverse_sqrt * inverse_sqrt;  // must not overflow in the density
          if (std::isnan(v) || (v > 0 && !std::isfinite(static_cast<Scalar>(v)))) return overflow(k);
          if (!(v > 0) || !(static_cast<Scalar>(v) > 0) || !std::isfinite(inverse_sqrt) || !(inverse_sqrt > 0) ||
              !std::isfinite(precision))
            return singular(k);
        }
      variance_ = variances.cast<Scalar>();
      precision_sqrt_ = variances.array().rsqrt().matrix().template cast<Scalar>();
      const double per_variance = type == CovarianceType::Spherical ? d : 1;
      log_det_ = (-0.5 * per_variance * variances.array().log().rowwise().sum()).matrix().template cast<Scalar>();
    }
    return {};
  }

  CovarianceType type_ = CovarianceType::Full;
  int n_components_ = 0;
  int n_features_ = 0;
  std::vector<Matrix> matrix_;            // Full: K covariances, Tied: the shared one
  std::vector<Matrix> precision_factor_;  // U with Sigma^{-1} = U U^T, upper triangular
  Table variance_;                        // Diagonal: K x d, Spherical: K x 1
  Table precision_sqrt_;                  // 1 / sqrt(variance_)
  Column log_det_;                        // per stored factor: log det U
};

}  // namespace gaussmix
