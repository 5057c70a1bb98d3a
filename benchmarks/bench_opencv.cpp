// SPDX-License-Identifier: MIT
// OpenCV's cv::ml::EM on one workload, started by trainE() from the workload's initial means,
// covariances and weights. TermCriteria(COUNT, n) runs n E-steps but only n - 1 M-steps, so
// `iters` EM iterations (E then M, as the other peers) need COUNT = iters + 1; the log-likelihoods
// trainE returns are then those of the parameters after `iters` M-steps (what the other peers
// report as their score). With COUNT alone, OpenCV's epsilon is 0: it stops early only if the
// log-likelihood decreases, which the agreement check would reveal.
//
// Per-iteration time = (t(trainE with COUNT = iters + 1) - t(trainE with COUNT = 1)) / iters: the
// set-up (input checks, SVD of the initial covariances) and one E-step cancel, leaving exactly
// `iters` E-steps and `iters` M-steps. cv::ml::EM is single-threaded (setNumThreads set anyway).
//
// usage: bench_opencv FILE [--reps 3] [--warmup 0] [--iters 20] [--threads T] [--rows N]
#include <cstdio>
#include <opencv2/core.hpp>
#include <opencv2/core/version.hpp>
#include <opencv2/ml.hpp>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

struct Trained {
  double seconds = 0;
  double score = 0;
};

Trained train(const bench::Workload& w, const cv::Mat& samples, int count) {
  const int K = static_cast<int>(w.k), d = static_cast<int>(w.d);
  cv::Mat means(K, d, CV_64F, const_cast<double*>(w.means.data()));
  cv::Mat weights(1, K, CV_64F, const_cast<double*>(w.weights.data()));
  std::vector<cv::Mat> covs;
  for (int k = 0; k < K; ++k)
    covs.push_back(cv::Mat(d, d, CV_64F, const_cast<double*>(w.covs.data() + static_cast<std::size_t>(k) * d * d)));
  cv::Ptr<cv::ml::EM> em = cv::ml::EM::create();
  em->setClustersNumber(K);
  em->setCovarianceMatrixType(w.diagonal ? cv::ml::EM::COV_MAT_DIAGONAL : cv::ml::EM::COV_MAT_GENERIC);
  em->setTermCriteria(cv::TermCriteria(cv::TermCriteria::COUNT, count, 0.0));
  cv::Mat log_likelihoods;
  const double t0 = bench::now_seconds();
  const bool ok = em->trainE(samples, means, covs, weights, log_likelihoods, cv::noArray(), cv::noArray());
  const double t1 = bench::now_seconds();
  if (!ok) throw std::runtime_error("trainE failed");
  return {t1 - t0, cv::mean(log_likelihoods)[0]};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    if (args.path.empty()) {
      std::fprintf(stderr, "usage: bench_opencv FILE [--reps R] [--iters 20] [--rows N]\n");
      return 2;
    }
    const int threads = static_cast<int>(args.get_int("threads", 1));
    cv::setNumThreads(threads);
    const bench::Workload w = bench::read_workload(args.path, static_cast<std::uint64_t>(args.get_int("rows", 0)));
    const int iters = static_cast<int>(args.get_int("iters", 20));
    const int reps = static_cast<int>(args.get_int("reps", 3));
    const int warmup = static_cast<int>(args.get_int("warmup", 0));
    // N x d, one sample per row, over the file's buffer (CV_64F: trainE does not copy it).
    const cv::Mat samples(static_cast<int>(w.n), static_cast<int>(w.d), CV_64F, const_cast<double*>(w.x.data()));

    std::vector<double> per_iteration;
    double score = 0;
    for (int rep = -warmup; rep < reps; ++rep) {
      const Trained one = train(w, samples, 1);
      const Trained full = train(w, samples, iters + 1);
      if (rep >= 0) per_iteration.push_back((full.seconds - one.seconds) / iters);
      score = full.score;
    }
    bench::Json json;
    json.add("peer", "opencv EM")
        .add("threads", cv::getNumThreads())
        .add("n", w.n)
        .add("d", w.d)
        .add("k", w.k)
        .add("iters", iters)
        .add("times", per_iteration)
        .add("median", bench::median(per_iteration))
        .add("score", score)
        .add("version", CV_VERSION);
    json.print();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_opencv: %s\n", e.what());
    return 1;
  }
}
