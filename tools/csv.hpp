// SPDX-License-Identifier: MIT
// A small, strict CSV reader for the command-line tools (RFC 4180 plus the usual variants):
// quoted fields with "" for a quote, delimiters and line breaks inside quotes, LF, CRLF or CR line
// ends, a UTF-8 byte-order mark, blank lines skipped. Numbers are read locale-independently.
#pragma once

#include <Eigen/Core>

#include <charconv>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace gaussmix_tools {

/// An error the tools report to the user as "<program>: <message>" and exit 1.
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

/// Parses a whole cell as a finite double ("1.5", " -2e3 ", "+4"); false if it is anything else.
inline bool parse_number(std::string_view cell, double& value) {
  std::string_view s = trim(cell);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, std::chars_format::general);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(value);
}

/// Reads records one at a time from text held in memory.
class CsvReader {
 public:
  /// `source` names the input in messages (a path, or "<stdin>").
  CsvReader(std::string text, char delimiter, std::string source)
      : text_(std::move(text)), delimiter_(delimiter), source_(std::move(source)) {
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;  // UTF-8 byte-order mark
  }

  const std::string& source() const { return source_; }

  /// The next non-blank record into `fields`; `line` is the 1-based line it starts on.
  /// Returns false at the end of the input. Throws ToolError on an unclosed quote.
  bool next(std::vector<std::string>& fields, long& line) {
    while (pos_ < text_.size()) {
      line = line_;
      fields.clear();
      bool blank = true;
      read_record(fields, blank);
      if (!blank) return true;
    }
    return false;
  }

 private:
  bool at_line_end(std::size_t i) const { return text_[i] == '\n' || text_[i] == '\r'; }

  void skip_line_end() {  // LF, CRLF or a lone CR
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  void read_record(std::vector<std::string>& fields, bool& blank) {
    std::string field;
    bool quoted_any = false;
    for (;;) {
      field.clear();
      // leading spaces before an opening quote are allowed
      std::size_t start = pos_;
      while (start < text_.size() && (text_[start] == ' ' || text_[start] == '\t') && text_[start] != delimiter_)
        ++start;
      if (start < text_.size() && text_[start] == '"') {
        quoted_any = true;
        const long opened = line_;
        pos_ = start + 1;
        for (;;) {
          if (pos_ >= text_.size())
            throw ToolError(source_ + ": line " + std::to_string(opened) + ": a quoted field is not closed");
          const char c = text_[pos_];
          if (c == '"') {
            if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
              field += '"';
              pos_ += 2;
              continue;
            }
            ++pos_;
            break;
          }
          if (c == '\n' || (c == '\r' && !(pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'))) ++line_;
          field += c;
          ++pos_;
        }
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t') && text_[pos_] != delimiter_) ++pos_;
        if (pos_ < text_.size() && text_[pos_] != delimiter_ && !at_line_end(pos_))
          throw ToolError(source_ + ": line " + std::to_string(line_) + ", field " + std::to_string(fields.size() + 1) +
                          ": unexpected '" + std::string(1, text_[pos_]) + "' after a closing quote");
      } else {
        while (pos_ < text_.size() && text_[pos_] != delimiter_ && !at_line_end(pos_)) field += text_[pos_++];
      }
      fields.push_back(field);
      if (pos_ >= text_.size()) break;
      if (text_[pos_] == delimiter_) {
        ++pos_;
        if (pos_ >= text_.size()) {  // a trailing delimiter at the very end: one more empty field
          fields.emplace_back();
          break;
        }
        continue;
      }
      skip_line_end();
      break;
    }
    blank = !quoted_any && fields.size() == 1 && trim(fields[0]).empty();
  }

  std::string text_;
  char delimiter_;
  std::string source_;
  std::size_t pos_ = 0;
  long line_ = 1;
};

/// How to treat the first record.
enum class HeaderMode { Auto, Yes, No };

/// Numeric data read from a CSV file: the chosen columns of every data row.
struct Table {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> values;  ///< n x d
  std::vector<std::string> names;  ///< the chosen columns' names ("column 3" without a header)
  std::vector<int> indices;        ///< the chosen columns' 0-based positions in the file
  bool has_header = false;
  int file_columns = 0;  ///< fields per record in the file
};

inline bool is_unsigned_integer(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

/// A missing value under --missing: an empty cell, NA or NaN (any case).
inline bool is_missing_cell(std::string_view cell) {
  const std::string_view s = trim(cell);
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.empty() || lower == "na" || lower == "nan";
}

/// Reads `text` (from `source`) as CSV and returns the chosen columns as numbers.
/// `missing`: empty cells, NA and NaN become NaN (a missing value) instead of an error.
/// `columns`: empty for all, else 0-based indices or header names. Throws ToolError naming the
/// line and column of a bad cell, a ragged record, an unknown column.
inline Table read_table(std::string text, const std::string& source, char delimiter, HeaderMode header_mode,
                        const std::vector<std::string>& columns, bool missing = false) {
  CsvReader reader(std::move(text), delimiter, source);
  std::vector<std::string> fields;
  long line = 0;
  if (!reader.next(fields, line)) throw ToolError(source + ": the file has no data");

  Table table;
  table.file_columns = static_cast<int>(fields.size());
  std::vector<std::string> header;
  double scratch = 0;
  bool header_here = false;
  switch (header_mode) {
    case HeaderMode::Yes:
      header_here = true;
      break;
    case HeaderMode::No:
      break;
    case HeaderMode::Auto: {  // a header when no cell of the first record is a number
      header_here = true;
      for (const std::string& f : fields) header_here = header_here && !parse_number(f, scratch);
      break;
    }
  }
  const long first_line = line;
  if (header_here) {
    for (const std::string& f : fields) header.emplace_back(trim(f));
    table.has_header = true;
  }

  // resolve the chosen columns
  auto all_names = [&] {
    std::string out;
    for (std::size_t j = 0; j < header.size(); ++j) out += (j ? ", " : "") + header[j];
    return out;
  };
  if (columns.empty()) {
    for (int j = 0; j < table.file_columns; ++j) table.indices.push_back(j);
  } else {
    for (const std::string& raw : columns) {
      const std::string c(trim(raw));
      int index = -1;
      for (std::size_t j = 0; j < header.size(); ++j)
        if (header[j] == c) index = static_cast<int>(j);
      if (index < 0 && is_unsigned_integer(c)) {
        if (c.size() > 9 || std::stol(c) >= table.file_columns)
          throw ToolError("--columns: column index " + c + " is out of range: " + source + " has " +
                          std::to_string(table.file_columns) + " columns, numbered 0 to " +
                          std::to_string(table.file_columns - 1));
        index = std::stoi(c);
      }
      if (index < 0) {
        if (header.empty())
          throw ToolError("--columns: '" + c + "' is not a column index, and " + source +
                          " has no header row to find it by name (use --header if its first row is one)");
        throw ToolError("--columns: " + source + " has no column named '" + c + "'; its columns are: " + all_names());
      }
      for (int chosen : table.indices)
        if (chosen == index) throw ToolError("--columns: column '" + c + "' is chosen twice");
      table.indices.push_back(index);
    }
  }
  for (int j : table.indices)
    table.names.push_back(header.empty() || header[j].empty() ? "column " + std::to_string(j) : header[j]);

  const auto column_name = [&](int j) {
    return "column " + std::to_string(j + 1) + (header.empty() ? std::string() : " ('" + header[j] + "')");
  };
  std::vector<double> values;
  auto take = [&](const std::vector<std::string>& record, long at) {
    if (static_cast<int>(record.size()) != table.file_columns)
      throw ToolError(source + ": line " + std::to_string(at) + " has " + std::to_string(record.size()) +
                      (record.size() == 1 ? " field" : " fields") + ", but line " + std::to_string(first_line) + " has " +
                      std::to_string(table.file_columns) + " (ragged rows)");
    for (int j : table.indices) {
      double value = 0;
      if (!parse_number(record[j], value)) {
        if (missing && is_missing_cell(record[j])) {
          values.push_back(std::numeric_limits<double>::quiet_NaN());
          continue;
        }
        const std::string_view cell = trim(record[j]);
        std::string why = cell.empty() ? "is empty" : "'" + std::string(cell) + "' is not a finite number";
        throw ToolError(source + ": line " + std::to_string(at) + ", " + column_name(j) + ": " + why);
      }
      values.push_back(value);
    }
  };
  if (!header_here) take(fields, line);
  while (reader.next(fields, line)) take(fields, line);

  const Eigen::Index d = static_cast<Eigen::Index>(table.indices.size());
  const Eigen::Index n = d ? static_cast<Eigen::Index>(values.size()) / d : 0;
  table.values = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      values.data(), n, d);
  return table;
}

}  // namespace gaussmix_tools
