// SPDX-License-Identifier: MIT
// A hand-written SVG scatter plot of 2-D data coloured by component, with each component's
// 1- and 2-sigma ellipses (Mahalanobis distance 1 and 2, from the eigen-decomposition of its 2 x 2
// covariance) and its mean, axes with ticks, axis labels and a legend.
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace gaussmix_tools {

/// What the plot shows. Points are n x 2; means and covariances are per component.
struct PlotData {
  Eigen::MatrixX2d points;
  Eigen::VectorXi labels;  ///< component of each point
  std::vector<Eigen::Vector2d> means;
  std::vector<Eigen::Matrix2d> covariances;  ///< the 2 x 2 block of the plotted columns
  std::vector<double> weights;
  std::string x_label, y_label;
  std::string title, subtitle;
};

namespace svg {

// Tableau 10, the matplotlib default cycle: distinct, colour-blind tolerable.
inline const char* colour(int k) {
  static const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return palette[k % 10];
}

inline std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

inline std::string fixed(double x, int decimals = 2) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, x);
  return buffer;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` intervals.
inline double tick_step(double range, int target) {
  const double raw = range / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / magnitude;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * magnitude;
}

struct Axis {
  double lo = 0, hi = 1, step = 1;
  int decimals = 0;
  // from the data range [min, max], padded and rounded out to whole ticks
  Axis(double min, double max, int target) {
    if (!(max > min)) {  // a constant column
      const double half = std::max(std::abs(min) * 0.1, 0.5);
      min -= half;
      max += half;
    }
    const double pad = 0.04 * (max - min);
    min -= pad;
    max += pad;
    step = tick_step(max - min, target);
    lo = std::floor(min / step) * step;
    hi = std::ceil(max / step) * step;
    decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  }
  // The tick label: "0" never "-0", and a real minus sign (U+2212) for negative values.
  std::string label(double v) const {
    std::string s = fixed(v, decimals);
    if (s.find_first_not_of("-0.") == std::string::npos) return fixed(0.0, decimals);
    return s[0] == '-' ? "\u2212" + s.substr(1) : s;
  }
};

// Points on the ellipse of Mahalanobis radius r: mean + r * V sqrt(Lambda) (cos t, sin t).
inline std::vector<Eigen::Vector2d> ellipse(const Eigen::Vector2d& mean, const Eigen::Matrix2d& cov, double r,
                                            int segments = 120) {
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(cov);
  const Eigen::Vector2d radii = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt() * r;
  const Eigen::Matrix2d axes = eig.eigenvectors();
  std::vector<Eigen::Vector2d> out;
  for (int i = 0; i < segments; ++i) {
    const double t = 2 * 3.14159265358979323846 * i / segments;
    out.push_back(mean + axes.col(0) * radii(0) * std::cos(t) + axes.col(1) * radii(1) * std::sin(t));
  }
  return out;
}

}  // namespace svg

/// The plot as a standalone SVG document.
inline std::string render_svg(const PlotData& data) {
  using svg::escape;
  using svg::fixed;
  const int K = static_cast<int>(data.means.size());
  const double width = 800, height = 580;
  const double left = 84, right = 590, top = 64, bottom = 508;  // the plot area

  // ranges from the points and the 2-sigma ellipses
  double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
  auto extend = [&](const Eigen::Vector2d& p) {
    x_min = std::min(x_min, p.x());
    x_max = std::max(x_max, p.x());
    y_min = std::min(y_min, p.y());
    y_max = std::max(y_max, p.y());
  };
  for (Eigen::Index i = 0; i < data.points.rows(); ++i) extend(data.points.row(i).transpose());
  std::vector<std::vector<Eigen::Vector2d>> ellipses;
  for (int k = 0; k < K; ++k)
    for (const double r : {1.0, 2.0}) {
      ellipses.push_back(svg::ellipse(data.means[k], data.covariances[k], r));
      for (const auto& p : ellipses.back()) extend(p);
    }
  const svg::Axis xa(x_min, x_max, 8), ya(y_min, y_max, 7);
  auto px = [&](double x) { return left + (x - xa.lo) / (xa.hi - xa.lo) * (right - left); };
  auto py = [&](double y) { return bottom - (y - ya.lo) / (ya.hi - ya.lo) * (bottom - top); };

  std::ostringstream s;
  s << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
    << "<title>" << escape(data.title) << "</title>\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<defs><clipPath id=\"plot-area\"><rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << right - left
    << "\" height=\"" << bottom - top << "\"/></clipPath></defs>\n";

  // title
  s << "<text x=\"" << (left + right) / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">"
    << escape(data.title) << "</text>\n";
  if (!data.subtitle.empty())
    s << "<text x=\"" << (left + right) / 2 << "\" y=\"48\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">"
      << escape(data.subtitle) << "</text>\n";

  // grid, ticks and tick labels
  s << "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (double v = xa.lo; v <= xa.hi + xa.step * 1e-6; v += xa.step)
    s << "<line x1=\"" << fixed(px(v)) << "\" y1=\"" << top << "\" x2=\"" << fixed(px(v)) << "\" y2=\"" << bottom
      << "\"/>\n";
  for (double v = ya.lo; v <= ya.hi + ya.step * 1e-6; v += ya.step)
    s << "<line x1=\"" << left << "\" y1=\"" << fixed(py(v)) << "\" x2=\"" << right << "\" y2=\"" << fixed(py(v))
      << "\"/>\n";
  s << "</g>\n<g stroke=\"#333\" stroke-width=\"1\">\n";
  for (double v = xa.lo; v <= xa.hi + xa.step * 1e-6; v += xa.step)
    s << "<line x1=\"" << fixed(px(v)) << "\" y1=\"" << bottom << "\" x2=\"" << fixed(px(v)) << "\" y2=\""
      << bottom + 6 << "\"/>\n";
  for (double v = ya.lo; v <= ya.hi + ya.step * 1e-6; v += ya.step)
    s << "<line x1=\"" << left - 6 << "\" y1=\"" << fixed(py(v)) << "\" x2=\"" << left << "\" y2=\""
      << fixed(py(v)) << "\"/>\n";
  s << "</g>\n<g font-size=\"12\" fill=\"#333\">\n";
  for (double v = xa.lo; v <= xa.hi + xa.step * 1e-6; v += xa.step)
    s << "<text x=\"" << fixed(px(v)) << "\" y=\"" << bottom + 21 << "\" text-anchor=\"middle\">" << xa.label(v)
      << "</text>\n";
  for (double v = ya.lo; v <= ya.hi + ya.step * 1e-6; v += ya.step)
    s << "<text x=\"" << left - 10 << "\" y=\"" << fixed(py(v) + 4) << "\" text-anchor=\"end\">" << ya.label(v)
      << "</text>\n";
  s << "</g>\n";

  // axis labels
  s << "<text x=\"" << (left + right) / 2 << "\" y=\"" << bottom + 48 << "\" text-anchor=\"middle\" font-size=\"14\">"
    << escape(data.x_label) << "</text>\n"
    << "<text transform=\"translate(24 " << (top + bottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\" "
    << "font-size=\"14\">" << escape(data.y_label) << "</text>\n";

  // points, one group per component
  s << "<g clip-path=\"url(#plot-area)\">\n";
  for (int k = 0; k < K; ++k) {
    s << "<g fill=\"" << svg::colour(k) << "\" fill-opacity=\"0.55\">\n";
    for (Eigen::Index i = 0; i < data.points.rows(); ++i)
      if (data.labels(i) == k)
        s << "<circle cx=\"" << fixed(px(data.points(i, 0))) << "\" cy=\"" << fixed(py(data.points(i, 1)))
          << "\" r=\"2.6\"/>\n";
    s << "</g>\n";
  }

  // ellipses: a white halo under the coloured line keeps them visible over the points
  for (int k = 0; k < K; ++k)
    for (int r = 0; r < 2; ++r) {
      std::ostringstream path;
      const auto& e = ellipses[static_cast<std::size_t>(2 * k + r)];
      for (std::size_t i = 0; i < e.size(); ++i)
        path << (i ? " L" : "M") << fixed(px(e[i].x())) << "," << fixed(py(e[i].y()));
      path << " Z";
      const char* dash = r == 0 ? "" : " stroke-dasharray=\"7 4\"";
      s << "<path d=\"" << path.str() << "\" fill=\"none\" stroke=\"white\" stroke-opacity=\"0.8\" stroke-width=\"4.5\"/>\n"
        << "<path d=\"" << path.str() << "\" fill=\"none\" stroke=\"" << svg::colour(k) << "\" stroke-width=\""
        << (r == 0 ? 2.2 : 1.6) << "\"" << dash << "/>\n";
    }

  // means: a black cross with a white halo
  auto cross = [&](double x, double y, double size) {
    std::ostringstream c;
    c << "M" << fixed(x - size) << "," << fixed(y - size) << " L" << fixed(x + size) << "," << fixed(y + size) << " M"
      << fixed(x - size) << "," << fixed(y + size) << " L" << fixed(x + size) << "," << fixed(y - size);
    return "<path d=\"" + c.str() + "\" stroke=\"white\" stroke-width=\"5\" stroke-linecap=\"round\"/>\n<path d=\"" +
           c.str() + "\" stroke=\"black\" stroke-width=\"2.2\" stroke-linecap=\"round\"/>\n";
  };
  for (int k = 0; k < K; ++k) s << cross(px(data.means[k].x()), py(data.means[k].y()), 6);
  s << "</g>\n";

  // frame
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << right - left << "\" height=\"" << bottom - top
    << "\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.2\"/>\n";

  // legend
  const double lx = right + 22;
  double ly = top + 8;
  s << "<g font-size=\"13\" fill=\"#222\">\n";
  s << "<text x=\"" << lx << "\" y=\"" << ly + 4 << "\" font-weight=\"bold\">component (weight)</text>\n";
  ly += 24;
  const int shown = std::min(K, 16);
  for (int k = 0; k < shown; ++k) {
    s << "<circle cx=\"" << lx + 8 << "\" cy=\"" << ly << "\" r=\"5.5\" fill=\"" << svg::colour(k) << "\"/>\n"
      << "<text x=\"" << lx + 22 << "\" y=\"" << ly + 4.5 << "\">" << k << "  (" << fixed(data.weights[k], 3)
      << ")</text>\n";
    ly += 21;
  }
  if (shown < K) {
    s << "<text x=\"" << lx + 22 << "\" y=\"" << ly + 4.5 << "\">... " << K - shown << " more</text>\n";
    ly += 21;
  }
  ly += 12;
  s << "<line x1=\"" << lx << "\" y1=\"" << ly << "\" x2=\"" << lx + 30 << "\" y2=\"" << ly
    << "\" stroke=\"#444\" stroke-width=\"2.2\"/>\n"
    << "<text x=\"" << lx + 38 << "\" y=\"" << ly + 4.5 << "\">1σ ellipse</text>\n";
  ly += 21;
  s << "<line x1=\"" << lx << "\" y1=\"" << ly << "\" x2=\"" << lx + 30 << "\" y2=\"" << ly
    << "\" stroke=\"#444\" stroke-width=\"1.6\" stroke-dasharray=\"7 4\"/>\n"
    << "<text x=\"" << lx + 38 << "\" y=\"" << ly + 4.5 << "\">2σ ellipse</text>\n";
  ly += 21;
  s << cross(lx + 15, ly, 5) << "<text x=\"" << lx + 38 << "\" y=\"" << ly + 4.5 << "\">mean</text>\n";
  ly += 26;
  s << "<text x=\"" << lx << "\" y=\"" << ly << "\" font-size=\"11\" fill=\"#666\">"
    << "Points coloured by the</text>\n"
    << "<text x=\"" << lx << "\" y=\"" << ly + 14 << "\" font-size=\"11\" fill=\"#666\">"
    << "most probable component.</text>\n"
    << "<text x=\"" << lx << "\" y=\"" << ly + 28 << "\" font-size=\"11\" fill=\"#666\">"
    << "Ellipses: Mahalanobis</text>\n"
    << "<text x=\"" << lx << "\" y=\"" << ly + 42 << "\" font-size=\"11\" fill=\"#666\">"
    << "distance 1 and 2.</text>\n";
  s << "</g>\n</svg>\n";
  return s.str();
}

}  // namespace gaussmix_tools
