#include <gaussmix/gaussmix.hpp>
#include <iostream>

int main() {
  Eigen::MatrixXd X(8, 2);  // one sample per row
  X << 1.1, 2.2,  0.7, 2.1,  1.2, 1.8,  0.9, 1.9,
       6.2, 4.9,  5.8, 5.1,  6.1, 5.3,  5.9, 4.7;

  gaussmix::Options options;
  options.n_components = 2;
  options.seed = 42;
  gaussmix::GaussianMixtureXd gmm(options);
  gmm.fit(X);

  std::cout << "weights:\n" << gmm.weights() << "\nmeans:\n" << gmm.means()
            << "\ncovariance(0):\n" << gmm.covariance(0) << "\nlabels: " << gmm.predict(X).transpose() << "\n";
}
