// SPDX-License-Identifier: MIT
// Explicit instantiation of every supported (Scalar, Dim), so that every non-template member
// compiles for each of them (as Sophus does), and the convenience aliases are the expected types.

#include <gaussmix/gaussmix.hpp>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>
#include <vector>

template class gaussmix::GaussianMixture<double>;
template class gaussmix::GaussianMixture<float>;
template class gaussmix::GaussianMixture<double, 2>;
template class gaussmix::GaussianMixture<float, 2>;
template class gaussmix::GaussianMixture<double, 3>;
template class gaussmix::GaussianMixture<float, 3>;

// A namespace of its own: the tests build as a few unity translation units (tests/CMakeLists.txt).
namespace gaussmix_test_instantiation {

namespace {

// A tiny fit on two blobs drawn by the model's own sampler: weights must sum to 1, and the
// public types must be what api.md says they are.
template <class Model, class Scalar, int Dim> void tiny_fit(int d) {
  static_assert(std::is_same_v<typename Model::Vector, Eigen::Matrix<Scalar, Dim, 1>>);
  static_assert(std::is_same_v<typename Model::Matrix, Eigen::Matrix<Scalar, Dim, Dim>>);
  static_assert(std::is_same_v<typename Model::Weights, Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>);
  static_assert(std::is_same_v<typename Model::Means, Eigen::Matrix<Scalar, Eigen::Dynamic, Dim>>);
  static_assert(std::is_same_v<typename Model::Samples, Eigen::Matrix<Scalar, Eigen::Dynamic, Dim>>);
  static_assert(
      std::is_same_v<typename Model::Responsibilities, Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>);
  static_assert(std::is_same_v<typename Model::ColumnVector, Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>);
  static_assert(std::is_same_v<typename Model::Labels, Eigen::VectorXi>);
  static_assert(std::is_same_v<decltype(std::declval<const Model&>().weights()), const typename Model::Weights&>);
  static_assert(std::is_same_v<decltype(std::declval<const Model&>().covariance(0)), typename Model::Matrix>);
  static_assert(std::is_same_v<decltype(std::declval<const Model&>().score(Eigen::MatrixXd())), Scalar>);

  gaussmix::Options options;
  options.n_components = 2;
  Model truth(options);
  typename Model::Means means = Model::Means::Zero(2, d);
  means.row(1).setConstant(Scalar(5));
  truth.set_parameters(typename Model::Weights(Model::Weights::Constant(2, Scalar(0.5))), means,
                       std::vector<typename Model::Matrix>(2, Model::Matrix::Identity(d, d)));
  const typename Model::Samples X = truth.sample(60, 1);

  options.seed = 2;
  Model model(options);
  const gaussmix::FitResult result = model.fit(X);
  CHECK(std::isfinite(result.lower_bound));
  CHECK(model.n_features() == d);
  CHECK(model.n_components() == 2);
  CHECK(model.weights().size() == 2);
  CHECK(std::abs(static_cast<double>(model.weights().sum()) - 1.0) <= 1e-5);
}

}  // namespace

TEST_CASE("convenience aliases name the expected instantiations", "[api]") {
  static_assert(std::is_same_v<gaussmix::GaussianMixtureXd, gaussmix::GaussianMixture<double, Eigen::Dynamic>>);
  static_assert(std::is_same_v<gaussmix::GaussianMixtureXf, gaussmix::GaussianMixture<float, Eigen::Dynamic>>);
  static_assert(std::is_same_v<gaussmix::GaussianMixture2d, gaussmix::GaussianMixture<double, 2>>);
  static_assert(std::is_same_v<gaussmix::GaussianMixture2f, gaussmix::GaussianMixture<float, 2>>);
  static_assert(std::is_same_v<gaussmix::GaussianMixture3d, gaussmix::GaussianMixture<double, 3>>);
  static_assert(std::is_same_v<gaussmix::GaussianMixture3f, gaussmix::GaussianMixture<float, 3>>);
  static_assert(std::is_same_v<gaussmix::GaussianMixture<>, gaussmix::GaussianMixtureXd>);

  SECTION("GaussianMixtureXd") { tiny_fit<gaussmix::GaussianMixtureXd, double, Eigen::Dynamic>(4); }
  SECTION("GaussianMixtureXf") { tiny_fit<gaussmix::GaussianMixtureXf, float, Eigen::Dynamic>(4); }
  SECTION("GaussianMixture2d") { tiny_fit<gaussmix::GaussianMixture2d, double, 2>(2); }
  SECTION("GaussianMixture2f") { tiny_fit<gaussmix::GaussianMixture2f, float, 2>(2); }
  SECTION("GaussianMixture3d") { tiny_fit<gaussmix::GaussianMixture3d, double, 3>(3); }
  SECTION("GaussianMixture3f") { tiny_fit<gaussmix::GaussianMixture3f, float, 3>(3); }
}

}  // namespace gaussmix_test_instantiation
