#pragma once

// clang before 16 cannot instantiate libstdc++'s std::views (llvm/llvm-project#52696: every
// `range | std::views::...` fails inside view_interface). Tests of std views composition compile
// only where they can (the tests do not exist elsewhere); range-v3 is unaffected.
#if defined(__clang__) && __clang_major__ < 16 && defined(__GLIBCXX__)
#define PIPELINE_TEST_STD_VIEWS 0
#else
#define PIPELINE_TEST_STD_VIEWS 1
#endif
