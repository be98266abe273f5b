// pipeline::mysql passes the contract suites every adapter passes, against the real server
// of PIPELINE_MYSQL_TEST_URI: each factory writes into tables of its own, dropped afterwards.
#include <pipeline/mysql/mysql.hpp>

#include "mysql/mysql_test_support.hpp"
#include "support/relational_contracts.hpp"

namespace {
using factories = pipeline::test::server_contract_factories<mysql_test::server>;
}  // namespace

PIPELINE_RELATIONAL_CONTRACTS(mysql, factories::table_sinks, factories::exactly_once_sinks, factories::checkpoint_stores,
                              factories::dead_letter_tables, factories::job_logs);
