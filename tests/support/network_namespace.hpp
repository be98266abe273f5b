#pragma once
// Test hosts on one machine: network namespaces (`ip netns`) joined by veth links, created by a
// test and deleted on every path. A namespace has its own interfaces, addresses and ports and no
// route to anything but the links made here, so what listens in one is reachable only from the
// namespaces linked to it. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2, as the
// test command has (scripts/install-deps.sh servers); without them the test fails, saying so.

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "support/run_command.hpp"

namespace pipeline::test {

// A network namespace with its loopback up; deleted (with its links) on destruction. Processes
// still running in it keep it alive until they exit: kill them first.
class network_namespace {
 public:
  explicit network_namespace(std::string name) : name_(std::move(name)) {
    remove();  // a namespace of this name left by a test that was killed goes first
    run_command(fmt::format("ip netns add {}", name_));
    try {
      run_command(fmt::format("ip -n {} link set lo up", name_));
    } catch (...) {
      remove();
      throw;
    }
  }
  network_namespace(const network_namespace&) = delete;
  auto operator=(const network_namespace&) -> network_namespace& = delete;
  ~network_namespace() { remove(); }

  [[nodiscard]] auto name() const -> const std::string& { return name_; }

  // `argv` run inside this namespace (`ip netns exec` execs it: the pid is the program's).
  [[nodiscard]] auto exec(std::vector<std::string> argv) const -> std::vector<std::string> {
    argv.insert(argv.begin(), {"ip", "netns", "exec", name_});
    return argv;
  }

 private:
  void remove() const { (void)std::system(fmt::format("ip netns del {} >/dev/null 2>&1", name_).c_str()); }
  std::string name_;
};

// A veth link between two namespaces, with an address on each end in one /24 (e.g. 10.91.1.1
// and 10.91.1.2). Deleted with either namespace.
class veth_link {
 public:
  struct end {
    const network_namespace& host;
    std::string interface;  ///< at most 15 characters
    std::string address;
  };

  veth_link(end a, end b) : a_host_(a.host.name()), a_interface_(a.interface) {
    run_command(fmt::format("ip -n {} link add {} type veth peer name {} netns {}", a.host.name(), a.interface,
                            b.interface, b.host.name()));
    for (const auto& e : {a, b}) {
      run_command(fmt::format("ip -n {} addr add {}/24 dev {}", e.host.name(), e.address, e.interface));
      run_command(fmt::format("ip -n {} link set {} up", e.host.name(), e.interface));
    }
  }

  // Takes the link down: packets are dropped, no connection is reset (a partition, not a crash).
  void cut() const { run_command(fmt::format("ip -n {} link set {} down", a_host_, a_interface_)); }
  void heal() const { run_command(fmt::format("ip -n {} link set {} up", a_host_, a_interface_)); }

 private:
  std::string a_host_;
  std::string a_interface_;
};

// Moves the calling thread into a namespace until destruction; threads and processes it starts
// meanwhile are born there. Sockets keep the namespace they were opened in.
class inside_namespace {
 public:
  explicit inside_namespace(const network_namespace& ns) {
    previous_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = ::open(fmt::format("/run/netns/{}", ns.name()).c_str(), O_RDONLY | O_CLOEXEC);
    const bool entered = previous_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
    if (target >= 0) ::close(target);
    if (!entered) {
      if (previous_ >= 0) ::close(previous_);
      throw std::runtime_error(fmt::format("cannot enter network namespace {}", ns.name()));
    }
  }
  inside_namespace(const inside_namespace&) = delete;
  auto operator=(const inside_namespace&) -> inside_namespace& = delete;
  ~inside_namespace() {
    (void)::setns(previous_, CLONE_NEWNET);
    ::close(previous_);
  }

 private:
  int previous_ = -1;
};

}  // namespace pipeline::test
