// Typed errors. Library code throws these; the CLI turns them into one line on stderr.
#pragma once
#include <stdexcept>
#include <string>

namespace embflow {

// Base of every error embflow throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The caller's data or configuration is wrong: an index out of range, a malformed config,
// a shape mismatch. The message names the table, sample and value.
class InvalidInput : public Error {
 public:
  using Error::Error;
};

// A file could not be read or written, or its contents are truncated or malformed.
class IoError : public Error {
 public:
  using Error::Error;
};

// A request does not fit: a table larger than memory, a resident copy above its byte budget.
class CapacityError : public Error {
 public:
  using Error::Error;
};

}  // namespace embflow
