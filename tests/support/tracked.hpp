#pragma once

#include <cstddef>
#include <mutex>
#include <set>

namespace test_support {

/// A value that records its constructions and destructions, so that a test can assert that a
/// container leaked nothing, destroyed nothing twice and used no dead object (after
/// rigtorp/MPMCQueue's TestType).
///
/// Thread-safe: every live object is in one registry under a mutex, which makes it slow, for
/// correctness tests only. A use of an object not in the registry (destroyed twice, never
/// constructed, moved into raw memory) counts as an error instead of crashing.
///
///     const auto before = test_support::tracked::live();
///     { container_under_test c; c.add(test_support::tracked{1}); }
///     EXPECT_EQ(test_support::tracked::live(), before);
///     EXPECT_EQ(test_support::tracked::errors(), 0U);
class tracked {
 public:
  explicit tracked(int value = 0) : value_(value) { enter(); }
  tracked(const tracked& other) : value_(other.value()) { enter(); }
  tracked(tracked&& other) noexcept : value_(other.value()) { enter(); }

  auto operator=(const tracked& other) -> tracked& {
    check();
    value_ = other.value();
    return *this;
  }

  auto operator=(tracked&& other) noexcept -> tracked& { return *this = static_cast<const tracked&>(other); }

  ~tracked() { leave(); }

  [[nodiscard]] auto value() const -> int {
    check();
    return value_;
  }

  /// Objects constructed and not yet destroyed.
  [[nodiscard]] static auto live() -> std::size_t {
    const std::scoped_lock lock{state().mutex};
    return state().objects.size();
  }

  /// Double constructions, double destructions and uses of dead objects seen so far.
  [[nodiscard]] static auto errors() -> std::size_t {
    const std::scoped_lock lock{state().mutex};
    return state().errors;
  }

 private:
  struct registry {
    std::mutex mutex;
    std::set<const tracked*> objects;
    std::size_t errors = 0;
  };

  static auto state() -> registry& {
    static registry r;
    return r;
  }

  void enter() const {
    const std::scoped_lock lock{state().mutex};
    if (!state().objects.insert(this).second) ++state().errors;
  }

  void leave() const {
    const std::scoped_lock lock{state().mutex};
    if (state().objects.erase(this) == 0) ++state().errors;
  }

  void check() const {
    const std::scoped_lock lock{state().mutex};
    if (!state().objects.contains(this)) ++state().errors;
  }

  int value_;
};

}  // namespace test_support
