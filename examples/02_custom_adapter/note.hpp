#pragma once

#include <ostream>
#include <string>

// The record type of this example: a small document stored under a key.
struct note {
  std::string key;
  std::string body;

  friend auto operator==(const note&, const note&) -> bool = default;
  friend auto operator<<(std::ostream& os, const note& n) -> std::ostream& {
    return os << "note{" << n.key << ", " << n.body.size() << " bytes}";
  }
};
